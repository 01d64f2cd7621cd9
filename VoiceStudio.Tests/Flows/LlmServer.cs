using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceStudio.Tests.Flows;

/// <summary>
/// A local OpenAI-compatible model server on loopback: <c>POST /v1/chat/completions</c> in the documented Chat
/// Completions wire format, streamed as server-sent events (<c>chat.completion.chunk</c> deltas, tool calls in
/// pieces, a usage chunk when <c>stream_options.include_usage</c> asks, then <c>data: [DONE]</c>) or answered
/// whole. What it answers is scripted by the test, one reply per request; every request body is kept.
/// </summary>
public sealed class LlmServer : IAsyncLifetime
{
    public const string ApiKey = "sk-local-test-key";

    private WebApplication? _app;
    private readonly ConcurrentQueue<Reply> _script = new();

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The <c>/v1</c> base URL an OpenAI client is given.</summary>
    public Uri V1 => new(BaseUri, "v1/");

    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    /// <summary>One scripted answer: text in chunks, tool calls, an HTTP error, or silence for a while first.</summary>
    public sealed record Reply(IReadOnlyList<string> Chunks, IReadOnlyList<(string Name, string Arguments)> Calls, int Status = 200, TimeSpan Stall = default);

    public static Reply Text(params string[] chunks) => new(chunks, []);

    public static Reply Calls(string? text, params (string Name, string Arguments)[] calls) => new(text is null ? [] : [text], calls);

    public static Reply Error(int status) => new([], [], status);

    public static Reply Stalled(TimeSpan stall, params string[] chunks) => new(chunks, [], Stall: stall);

    public void Script(params Reply[] replies)
    {
        foreach (var reply in replies)
        {
            _script.Enqueue(reply);
        }
    }

    public void Reset()
    {
        _script.Clear();
        Requests.Clear();
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/chat/completions", CompleteAsync);
        await _app.StartAsync();
        BaseUri = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }

    private async Task CompleteAsync(HttpContext context)
    {
        if (context.Request.Headers.Authorization.ToString() != $"Bearer {ApiKey}")
        {
            await ErrorAsync(context, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
            return;
        }
        var request = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body))!;
        Requests.Enqueue(request);
        var reply = _script.TryDequeue(out var next) ? next : Text("I am the local test model.");
        if (reply.Stall > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(reply.Stall, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        if (reply.Status != 200)
        {
            await ErrorAsync(context, reply.Status, reply.Status == 429 ? "Rate limit reached for requests" : "The server had an error while processing your request.",
                reply.Status == 429 ? "requests" : "server_error", reply.Status == 429 ? "rate_limit_exceeded" : null);
            return;
        }
        var model = request["model"]?.GetValue<string>() ?? "local";
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var finish = reply.Calls.Count > 0 ? "tool_calls" : "stop";
        var completion = string.Concat(reply.Chunks);
        if (request["stream"] is not JsonValue stream || !stream.GetValue<bool>())
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Chunks.Count > 0 ? completion : null };
            if (reply.Calls.Count > 0)
            {
                message["tool_calls"] = new JsonArray([.. reply.Calls.Select((c, i) => (JsonNode)ToolCall(i, c.Name, c.Arguments, whole: true))]);
            }
            await context.Response.WriteAsJsonAsync(new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
                ["usage"] = Usage(request, completion),
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        async Task ChunkAsync(JsonObject delta, string? finishReason, JsonObject? usage = null, bool noChoices = false)
        {
            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = model,
                ["choices"] = noChoices ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
            };
            if (usage is not null)
            {
                chunk["usage"] = usage;
            }
            await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", Encoding.UTF8);
            await context.Response.Body.FlushAsync();
        }
        await ChunkAsync(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null);
        foreach (var piece in reply.Chunks)
        {
            await ChunkAsync(new JsonObject { ["content"] = piece }, null);
            await Task.Delay(5); // tokens arrive over time, as from a real model
        }
        for (var i = 0; i < reply.Calls.Count; i++)
        {
            var (name, arguments) = reply.Calls[i];
            await ChunkAsync(new JsonObject { ["tool_calls"] = new JsonArray(ToolCall(i, name, "", whole: false)) }, null);
            // the arguments arrive in pieces, as a real model streams them
            for (var at = 0; at < arguments.Length; at += 7)
            {
                await ChunkAsync(new JsonObject
                {
                    ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = i, ["function"] = new JsonObject { ["arguments"] = arguments.Substring(at, Math.Min(7, arguments.Length - at)) } }),
                }, null);
            }
        }
        await ChunkAsync([], finish);
        if (request["stream_options"]?["include_usage"] is JsonValue include && include.GetValue<bool>())
        {
            await ChunkAsync([], null, Usage(request, completion), noChoices: true);
        }
        await context.Response.WriteAsync("data: [DONE]\n\n", Encoding.UTF8);
    }

    private static JsonObject ToolCall(int index, string name, string arguments, bool whole)
    {
        var call = new JsonObject
        {
            ["id"] = $"call_{index}_{Guid.NewGuid():N}"[..20],
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
        };
        if (!whole)
        {
            call["index"] = index;
        }
        return call;
    }

    private static JsonObject Usage(JsonObject request, string completion)
    {
        var prompt = request["messages"]?.ToJsonString().Length / 4 ?? 0;
        var output = Math.Max(1, completion.Length / 4);
        return new JsonObject { ["prompt_tokens"] = prompt, ["completion_tokens"] = output, ["total_tokens"] = prompt + output };
    }

    private static async Task ErrorAsync(HttpContext context, int status, string message, string type, string? code)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        });
    }

    /// <summary>The messages of a request as "role: text" lines (tool calls and results included), for assertions.</summary>
    public static List<string> Lines(JsonObject request) =>
        [.. request["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>() switch
        {
            "tool" => $"tool: {m["content"]}",
            var role when m["tool_calls"] is JsonArray calls => $"{role}: {m["content"]} [{string.Join(", ", calls.Select(c => c!["function"]!["name"]!.GetValue<string>()))}]",
            var role => $"{role}: {(m["content"] is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.GetValue<string>())) : m["content"]?.GetValue<string>())}",
        })];

    public static IEnumerable<string> ToolNames(JsonObject request) =>
        request["tools"] is JsonArray tools ? tools.Select(t => t!["function"]!["name"]!.GetValue<string>()) : [];

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    internal static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
