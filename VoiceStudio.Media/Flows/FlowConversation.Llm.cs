using System.ClientModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Speech;

namespace VoiceStudio.Media.Flows;

/// <summary>
/// The language-model half of the runtime: conversation nodes and freeform agents. The model's reply streams into
/// speech sentence by sentence; its function calls move the flow (transition functions), call HTTP tools (results
/// back to the model and into variables), end the call or transfer it. Each node can keep, drop or summarize what
/// came before. A failing model (timeout, 429, 5xx, unreachable) gives a spoken fallback line and an llm_error
/// event; the call stays where it was and goes on.
/// </summary>
public sealed partial class FlowConversation
{
    private const string EndCall = "end_call";
    private const string TransferCall = "transfer_call";

    private static readonly JsonElement EmptySchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();
    private static readonly JsonElement EndCallSchema = JsonDocument.Parse(
        """{"type":"object","properties":{"reason":{"type":"string","description":"Why the call ends"}}}""").RootElement.Clone();
    private static readonly JsonElement TransferSchema = JsonDocument.Parse(
        """{"type":"object","properties":{"number":{"type":"string","description":"The phone number to transfer to, in E.164 form"},"reason":{"type":"string"}},"required":["number"]}""").RootElement.Clone();

    private readonly IChatClient? _chat;
    private readonly List<ChatMessage> _history = [];
    /// <summary>The conversation node waiting for the caller (null when an ask node or nothing is).</summary>
    private ConversationNode? _talking;
    /// <summary>The model's last reply of the current turn, to mark where a barge-in cut it off.</summary>
    private ChatMessage? _lastReply;
    private string? _goTo;
    private string _goReason = "";
    private bool _finished;

    /// <summary>The messages the model has been given so far (system prompt aside), for tests and diagnostics.</summary>
    public IReadOnlyList<ChatMessage> History => _history;

    private ConversationNode FreeformNode() => new()
    {
        Key = "agent",
        ToolIds = _agent.ToolIds,
        BuiltinTools = [EndCall],
        RespondImmediately = true,
    };

    /// <summary>Enters a conversation node: its context strategy, its task messages, then (usually) the model speaks.</summary>
    private async IAsyncEnumerable<ConversationOutput> EnterConversationAsync(ConversationNode node, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        switch (node.Context)
        {
            case ContextStrategy.Reset:
                _history.Clear();
                break;
            case ContextStrategy.ResetWithSummary when _history.Count > 0:
                var (summary, error) = await SummarizeAsync(cancellationToken);
                _history.Clear();
                if (summary is not null)
                {
                    _history.Add(new ChatMessage(ChatRole.System, $"Summary of the conversation so far: {summary}"));
                }
                else
                {
                    yield return Traced("warning", ("message", $"the conversation could not be summarized ({error}); the context was reset"), ("node", node.Key));
                }
                break;
            default:
                break;
        }
        foreach (var task in node.TaskMessages)
        {
            _history.Add(new ChatMessage(Role(task.Role), Render(task.Content, node)));
        }
        foreach (var output in Drain())
        {
            yield return output;
        }
        if (node.RespondImmediately)
        {
            await foreach (var output in RespondAsync(node, cancellationToken))
            {
                yield return output;
            }
        }
    }

    /// <summary>The caller said (or keyed) something at a conversation node.</summary>
    private async IAsyncEnumerable<ConversationOutput> TalkAsync(string said, char? digit, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var node = _talking!;
        _toolRounds = 0;
        var key = digit?.ToString();
        var global = _agent.Flow?.Globals.FirstOrDefault(g => key is not null
            ? g.Global!.Dtmf == key
            : Understanding.MatchesAny(said, g.Global!.Phrases, 80));
        if (global is not null && global.Key != node.Key)
        {
            _returnTo.Push(node.Key);
            _talking = null;
            await foreach (var output in GoAsync(global.Key, "global", cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        _history.Add(new ChatMessage(ChatRole.User, string.IsNullOrWhiteSpace(said) ? "(the caller said something that could not be made out)" : said));
        await foreach (var output in RespondAndMoveAsync(node, cancellationToken))
        {
            yield return output;
        }
    }

    private async IAsyncEnumerable<ConversationOutput> RespondAndMoveAsync(ConversationNode node, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var output in RespondAsync(node, cancellationToken))
        {
            yield return output;
        }
        if (!_finished && _goTo is { } target)
        {
            _goTo = null;
            _talking = null;
            await foreach (var output in GoAsync(target, _goReason, cancellationToken))
            {
                yield return output;
            }
        }
    }

    /// <summary>
    /// One reply of the model, with as many tool rounds as it needs (at most <see cref="MaxToolRounds"/>; after that it
    /// must answer in words). Sets <see cref="_goTo"/> when it calls a transition and <see cref="_finished"/> when it
    /// ends or transfers the call.
    /// </summary>
    private async IAsyncEnumerable<ConversationOutput> RespondAsync(ConversationNode node, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = _agent.Llm!;
        _lastReply = null;
        _goTo = null;
        _finished = false;
        var system = SystemPrompt(node);
        foreach (var output in Drain())
        {
            yield return output;
        }
        var builtins = node.IsTerminal && !node.BuiltinTools.Contains(EndCall) ? [.. node.BuiltinTools, EndCall] : node.BuiltinTools;
        var tools = node.ToolIds.Select(id => _agent.Tools.GetValueOrDefault(id)).OfType<ToolDefinition>().ToList();
        for (var round = 1; ; round++)
        {
            var offerTools = round <= MaxToolRounds;
            if (!offerTools)
            {
                yield return Traced("warning", ("message", $"the model used {MaxToolRounds} tool rounds in one turn; it must answer without tools now"), ("node", node.Key));
            }
            var options = new ChatOptions
            {
                Temperature = (float)settings.Temperature,
                MaxOutputTokens = settings.MaxTokens,
                Tools = offerTools ? Declarations(node, tools, builtins) : null,
            };
            var reply = new Reply();
            await foreach (var output in StreamAsync([new ChatMessage(ChatRole.System, system), .. _history], options, reply, node, settings, cancellationToken))
            {
                yield return output;
            }
            if (reply.Failed || reply.Calls.Count == 0)
            {
                yield break;
            }
            var moved = false;
            foreach (var call in reply.Calls)
            {
                var arguments = call.Arguments is null ? [] : JsonSerializer.SerializeToNode(call.Arguments) as JsonObject ?? [];
                if (node.Functions.FirstOrDefault(f => f.Name == call.Name) is { } transition)
                {
                    StoreArguments(arguments);
                    if (transition.Next is { Length: > 0 } next && !moved)
                    {
                        moved = true;
                        _goTo = next;
                        _goReason = $"function {transition.Name}";
                        Answer(call, $"moving on to {next}");
                    }
                    else
                    {
                        Answer(call, "done");
                    }
                }
                else if (call.Name == EndCall && builtins.Contains(EndCall))
                {
                    Answer(call, "the call is ending");
                    yield return Traced("node_transition", ("from", node.Key), ("to", null), ("reason", "end_call"), ("why", arguments["reason"]?.ToString()));
                    _finished = true;
                    yield return new HangUp("agent ended the call");
                    yield break;
                }
                else if (call.Name == TransferCall && builtins.Contains(TransferCall))
                {
                    var number = (node.TransferNumber is { Length: > 0 } configured ? Render(configured, node) : arguments["number"]?.ToString() ?? "").Trim();
                    if (number.Length == 0)
                    {
                        Answer(call, "error: no number to transfer to");
                        continue;
                    }
                    Answer(call, $"transferring to {number}");
                    foreach (var output in Drain())
                    {
                        yield return output;
                    }
                    yield return Traced("transfer", ("number", number), ("node", node.Key));
                    _finished = true;
                    yield return new Transfer(number);
                    yield break;
                }
                else if (tools.FirstOrDefault(t => t.Name == call.Name) is { } tool)
                {
                    yield return Traced("tool_called", ("tool", tool.Name), ("node", node.Key), ("arguments", arguments.ToJsonString(ToolResult.Readable)), ("by", "llm"));
                    var result = await _tools.InvokeAsync(tool, arguments, CallInfo(), cancellationToken);
                    yield return ToolTrace(tool, result, node.Key);
                    if (result.Ok)
                    {
                        Store(result, new Dictionary<string, string>());
                    }
                    var content = result.Ok ? result.Content : $"error: {result.Error}";
                    Answer(call, content.Length > 4000 ? content[..4000] + "…" : content);
                }
                else
                {
                    yield return Traced("warning", ("message", $"the model called '{call.Name}', which this node does not offer"), ("node", node.Key));
                    Answer(call, $"error: there is no function named {call.Name}");
                }
            }
            if (moved)
            {
                yield break;
            }
        }
    }

    private sealed class Reply
    {
        public List<FunctionCallContent> Calls { get; } = [];
        public bool Failed { get; set; }
    }

    /// <summary>Streams one model response: sentences out as they complete, function calls collected, the message kept.</summary>
    private async IAsyncEnumerable<ConversationOutput> StreamAsync(List<ChatMessage> messages, ChatOptions options, Reply reply, ConversationNode node,
        Llm.LlmSettings settings, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.FirstTokenTimeout);
        var started = Stopwatch.GetTimestamp();
        double? firstTokenMs = null;
        long inputTokens = 0, outputTokens = 0;
        string? finish = null;
        var text = new StringBuilder();
        var splitter = new SentenceSplitter();
        var message = new ChatMessage(ChatRole.Assistant, []);
        var kept = false;
        Exception? failure = null;
        var stream = _chat!.GetStreamingResponseAsync(messages, options, deadline.Token).GetAsyncEnumerator(deadline.Token);
        try
        {
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    if (!await stream.MoveNextAsync())
                    {
                        break;
                    }
                    update = stream.Current;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = e;
                    break;
                }
                if (firstTokenMs is null)
                {
                    firstTokenMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    deadline.CancelAfter(settings.ReplyTimeout);
                }
                finish = update.FinishReason?.Value ?? finish;
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case FunctionCallContent call:
                            reply.Calls.Add(call);
                            break;
                        case UsageContent usage:
                            inputTokens += usage.Details.InputTokenCount ?? 0;
                            outputTokens += usage.Details.OutputTokenCount ?? 0;
                            break;
                        default:
                            break;
                    }
                }
                if (update.Text is { Length: > 0 } piece)
                {
                    text.Append(piece);
                    foreach (var sentence in splitter.Add(piece))
                    {
                        yield return new Say(sentence);
                    }
                }
            }
            if (failure is null && splitter.Flush() is { } rest)
            {
                yield return new Say(rest);
            }
        }
        finally
        {
            await stream.DisposeAsync();
            // Kept even when a barge-in stops the stream part way: Interrupted() then marks where it was cut off.
            if (text.Length > 0 || reply.Calls.Count > 0)
            {
                message.Contents = [.. text.Length > 0 ? [new TextContent(text.ToString())] : Array.Empty<AIContent>(), .. reply.Calls];
                _history.Add(message);
                _lastReply = message;
                kept = true;
            }
        }
        if (failure is not null)
        {
            reply.Failed = true;
            if (kept && reply.Calls.Count > 0)
            {
                // a half-made call has no result to pair with: drop it from what the model will see
                message.Contents = [.. message.Contents.Where(c => c is not FunctionCallContent)];
                reply.Calls.Clear();
            }
            var (kind, status) = Classify(failure, deadline.IsCancellationRequested);
            yield return Traced("llm_error", ("node", node.Key), ("kind", kind), ("status", status), ("message", Describe(failure, kind, settings)),
                ("after_ms", Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1)));
            yield return new Say(settings.FallbackLine);
            yield break;
        }
        yield return Traced("llm_response", ("node", node.Key), ("model", settings.Model), ("first_token_ms", firstTokenMs is { } ms ? Math.Round(ms, 1) : null),
            ("duration_ms", Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1)), ("input_tokens", inputTokens), ("output_tokens", outputTokens),
            ("finish_reason", finish), ("calls", reply.Calls.Select(c => c.Name).ToArray()), ("text", text.ToString()));
    }

    private void Answer(FunctionCallContent call, string result) =>
        _history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, result)]));

    private void StoreArguments(JsonObject arguments)
    {
        foreach (var (name, value) in arguments)
        {
            if (value is JsonValue)
            {
                _variables[name] = Text(value) ?? "";
            }
        }
    }

    private string SystemPrompt(ConversationNode node)
    {
        var prompt = new StringBuilder(Render(_agent.SystemPrompt, node));
        foreach (var role in node.RoleMessages)
        {
            prompt.Append("\n\n").Append(Render(role.Content, node));
        }
        return prompt.ToString().Trim();
    }

    private static List<AITool> Declarations(ConversationNode node, List<ToolDefinition> tools, IReadOnlyList<string> builtins)
    {
        var declared = new List<AITool>();
        foreach (var function in node.Functions)
        {
            declared.Add(AIFunctionFactory.CreateDeclaration(function.Name, function.Description, Schema(function.Parameters)));
        }
        foreach (var tool in tools)
        {
            declared.Add(AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, Schema(tool.Parameters)));
        }
        if (builtins.Contains(EndCall))
        {
            declared.Add(AIFunctionFactory.CreateDeclaration(EndCall,
                "End the call once the conversation is over. Say goodbye in the same reply, before calling this.", EndCallSchema));
        }
        if (builtins.Contains(TransferCall))
        {
            declared.Add(AIFunctionFactory.CreateDeclaration(TransferCall,
                "Transfer the caller to a person. Tell the caller first, in the same reply.",
                node.TransferNumber is { Length: > 0 } ? EndCallSchema : TransferSchema));
        }
        return declared;
    }

    private static JsonElement Schema(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return EmptySchema;
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : EmptySchema;
        }
        catch (JsonException)
        {
            return EmptySchema;
        }
    }

    private static ChatRole Role(string role) => role.ToLowerInvariant() switch
    {
        "user" => ChatRole.User,
        "assistant" => ChatRole.Assistant,
        _ => ChatRole.System,
    };

    /// <summary>Asks the model for a short summary of the conversation so far (for reset_with_summary).</summary>
    private async Task<(string? Summary, string? Error)> SummarizeAsync(CancellationToken cancellationToken)
    {
        var transcript = new StringBuilder();
        foreach (var message in _history.Where(m => m.Role == ChatRole.User || m.Role == ChatRole.Assistant))
        {
            if (message.Text is { Length: > 0 } said)
            {
                transcript.Append(message.Role == ChatRole.User ? "Caller: " : "Agent: ").AppendLine(said);
            }
        }
        if (transcript.Length == 0)
        {
            return (null, "nothing was said yet");
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_agent.Llm!.ReplyTimeout);
        try
        {
            var response = await _chat!.GetResponseAsync(
                [
                    new ChatMessage(ChatRole.System, "Summarize this phone conversation in at most five sentences for the agent who continues it. Keep names, numbers, dates and what was decided."),
                    new ChatMessage(ChatRole.User, transcript.ToString()),
                ],
                new ChatOptions { Temperature = 0, MaxOutputTokens = 300 }, deadline.Token);
            return string.IsNullOrWhiteSpace(response.Text) ? (null, "the model answered nothing") : (response.Text.Trim(), null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, Describe(e, Classify(e, deadline.IsCancellationRequested).Kind, _agent.Llm));
        }
    }

    private static (string Kind, int? Status) Classify(Exception e, bool timedOut) => e switch
    {
        OperationCanceledException when timedOut => ("timeout", null),
        ClientResultException { Status: 429 } => ("rate_limited", 429),
        ClientResultException { Status: >= 500 } c => ("server_error", c.Status),
        ClientResultException { Status: > 0 } c => ("refused", c.Status),
        _ when timedOut => ("timeout", null),
        _ => ("unreachable", null),
    };

    private static string Describe(Exception e, string kind, Llm.LlmSettings settings) => kind switch
    {
        "timeout" => $"no answer from the model within {settings.FirstTokenTimeout.TotalSeconds:0.#} s (first token) / {settings.ReplyTimeout.TotalSeconds:0.#} s (whole reply)",
        _ => e.Message.Split('\n')[0].Trim(),
    };
}
