using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VoiceStudio.Media.Flows;

/// <summary>Who is calling a tool: the call's metadata, sent along with the arguments.</summary>
public sealed record ToolCallContext(string CallId, string Agent, string? Caller, string Direction, IReadOnlyDictionary<string, string> Variables);

/// <summary>What a tool answered: JSON or text on success, a message naming the problem otherwise.</summary>
public sealed record ToolResult(bool Ok, int? Status, JsonNode? Json, string? Text, string? Error, double LatencyMs)
{
    /// <summary>JSON as people read it: "+1555…" not "\u002B1555…" (the text is never embedded in HTML).</summary>
    public static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The result as the LLM or the trace sees it.</summary>
    public string Content => Ok ? Json?.ToJsonString(Readable) ?? Text ?? "" : $"error: {Error}";
}

public interface IToolInvoker
{
    /// <summary>Runs the tool; never throws for the tool's own failures (they come back as an error result).</summary>
    Task<ToolResult> InvokeAsync(ToolDefinition tool, JsonObject arguments, ToolCallContext call, CancellationToken cancellationToken);
}

/// <summary>
/// HTTP tools (SPEC §7): POST a JSON body of the arguments plus a <c>call</c> object with the call's metadata, or GET
/// with the arguments as the query; configured headers; the tool's timeout. Non-2xx answers, timeouts, refused or
/// unresolvable hosts and malformed JSON all become error results. Answers are read up to 1 MiB.
/// </summary>
public sealed class HttpToolInvoker(HttpClient http) : IToolInvoker
{
    public const int MaxResponseBytes = 1 << 20;

    public async Task<ToolResult> InvokeAsync(ToolDefinition tool, JsonObject arguments, ToolCallContext call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        double Elapsed() => Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(tool.Timeout);
        try
        {
            using var request = BuildRequest(tool, arguments, call);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadAsync(response.Content, timeout.Token);
            var status = (int)response.StatusCode;
            var json = TryParseJson(body, response.Content.Headers.ContentType, out var jsonError);
            if (!response.IsSuccessStatusCode)
            {
                var detail = json?["detail"]?.ToString() ?? json?["error"]?.ToString() ?? Shorten(body);
                return new ToolResult(false, status, json, body, $"HTTP {status}{(detail.Length > 0 ? $": {detail}" : "")}", Elapsed());
            }
            if (jsonError is not null)
            {
                return new ToolResult(false, status, null, body, $"the answer is not valid JSON ({jsonError})", Elapsed());
            }
            return new ToolResult(true, status, json, json is null ? body : null, null, Elapsed());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ToolResult(false, null, null, null, $"timed out after {tool.Timeout.TotalSeconds:0.#} s", Elapsed());
        }
        catch (HttpRequestException e)
        {
            return new ToolResult(false, null, null, null, Describe(e), Elapsed());
        }
        catch (InvalidDataException e)
        {
            return new ToolResult(false, null, null, null, e.Message, Elapsed());
        }
    }

    private static HttpRequestMessage BuildRequest(ToolDefinition tool, JsonObject arguments, ToolCallContext call)
    {
        HttpRequestMessage request;
        if (tool.UseGet)
        {
            var query = new StringBuilder(tool.Url.Query.Length > 1 ? tool.Url.Query[1..] : "");
            foreach (var (name, value) in arguments.Append(new("call_id", JsonValue.Create(call.CallId))))
            {
                query.Append(query.Length > 0 ? "&" : "").Append(Uri.EscapeDataString(name)).Append('=')
                    .Append(Uri.EscapeDataString(value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? ""));
            }
            request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(tool.Url) { Query = query.ToString() }.Uri);
        }
        else
        {
            var body = (JsonObject)arguments.DeepClone();
            if (!body.ContainsKey("call"))
            {
                body["call"] = new JsonObject
                {
                    ["id"] = call.CallId,
                    ["agent"] = call.Agent,
                    ["caller"] = call.Caller,
                    ["direction"] = call.Direction,
                    ["variables"] = new JsonObject(call.Variables.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)JsonValue.Create(v.Value)))),
                };
            }
            request = new HttpRequestMessage(HttpMethod.Post, tool.Url)
            {
                Content = new StringContent(body.ToJsonString(ToolResult.Readable), Encoding.UTF8, "application/json"),
            };
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var (name, value) in tool.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return request;
    }

    private static async Task<string> ReadAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }
        if (length > MaxResponseBytes)
        {
            throw new InvalidDataException($"the answer is larger than {MaxResponseBytes / 1024} KiB");
        }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static JsonNode? TryParseJson(string body, MediaTypeHeaderValue? type, out string? error)
    {
        error = null;
        var looksJson = type?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true
            || body.TrimStart().StartsWith('{') || body.TrimStart().StartsWith('[');
        if (!looksJson || body.Length == 0)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            error = e.Message;
            return null;
        }
    }

    private static string Describe(HttpRequestException e) => e.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => $"could not resolve the host ({e.Message})",
        ToolAddressRefusedException refused => refused.Message,
        SocketException s => $"could not connect ({s.SocketErrorCode}: {s.Message})",
        _ => e.HttpRequestError == HttpRequestError.NameResolutionError ? $"could not resolve the host ({e.Message})" : e.Message,
    };

    private static string Shorten(string text) => text.Length <= 300 ? text.Trim() : text[..300].Trim() + "…";

    /// <summary>
    /// The handler tool requests go through: it resolves the host itself and refuses link-local and cloud-metadata
    /// addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) unless <paramref name="allowLinkLocal"/> is set.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowLinkLocal) => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
            if (!allowLinkLocal && addresses.FirstOrDefault(IsRefused) is { } refused)
            {
                throw new ToolAddressRefusedException($"{context.DnsEndPoint.Host} resolves to {refused}, a link-local or cloud-metadata address (set TOOLS_ALLOW_LINK_LOCAL=true to allow)");
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public static bool IsRefused(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            return bytes[0] == 169 && bytes[1] == 254;
        }
        return address.IsIPv6LinkLocal || address.Equals(Ec2Metadata6);
    }

    private static readonly IPAddress Ec2Metadata6 = IPAddress.Parse("fd00:ec2::254");
}

/// <summary>A tool URL that resolves to an address tools may not reach.</summary>
public sealed class ToolAddressRefusedException(string message) : IOException(message);
