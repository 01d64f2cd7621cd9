using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using VoiceStudio.Media.Calls;

namespace VoiceStudio.Media.Flows;

/// <summary>What the runtime knows of the call it serves; variables come from here before the first turn.</summary>
public sealed record CallContext
{
    public string CallId { get; init; } = "";
    public string Provider { get; init; } = "";
    public string Direction { get; init; } = "inbound";
    public string? From { get; init; }
    public string? To { get; init; }
    /// <summary>Provider custom parameters and outbound custom parameters.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The flow runtime for deterministic nodes (SPEC §7): it implements the call engine's conversation interface,
/// walks the agent's flow node by node, keeps the call's variables, calls HTTP tools, and reports every step as a
/// trace (node_entered, node_transition, tool_called, tool_result, warning). Bounded per turn: at most
/// <see cref="MaxAutomaticTransitions"/> nodes entered without the caller, at most <see cref="MaxToolRounds"/> tool calls.
/// Never concurrent (the engine calls it from one worker), so it keeps its state in plain fields.
/// </summary>
public sealed partial class FlowConversation : IConversation
{
    public const int MaxAutomaticTransitions = 10;
    public const int MaxToolRounds = 5;

    private readonly AgentDefinition _agent;
    private readonly IToolInvoker _tools;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);
    private readonly Stack<string> _returnTo = new();
    private readonly List<ConversationOutput> _pending = [];
    private CallContext _context = new();
    private FlowNode? _current;
    private AskNode? _waiting;
    private int _noMatch;
    private int _noInput;
    private string _digits = "";
    private int _toolRounds;

    /// <param name="chat">The model client; by default the shared client for the agent's <see cref="AgentDefinition.Llm"/> settings.</param>
    public FlowConversation(AgentDefinition agent, IToolInvoker tools, TimeProvider? clock = null, Microsoft.Extensions.AI.IChatClient? chat = null)
    {
        _agent = agent;
        _tools = tools;
        _clock = clock ?? TimeProvider.System;
        _chat = chat ?? (agent.Llm is { } llm ? Llm.LlmClients.For(llm) : null);
        foreach (var (name, value) in agent.Variables)
        {
            _variables[name] = value;
        }
    }

    /// <summary>The call's variables as they stand.</summary>
    public IReadOnlyDictionary<string, string> Variables => _variables;

    /// <summary>The node the flow is at (null before the start and for a freeform agent).</summary>
    public string? CurrentNode => _current?.Key;

    /// <summary>The phrases the node waiting for the caller expects; null lets the recognizer hear anything.</summary>
    public IReadOnlyList<string>? ExpectedPhrases { get; private set; }

    public bool AllowInterrupt => _current?.AllowInterrupt ?? true;

    /// <summary>Tells the runtime about its call before it starts: the call context becomes variables.</summary>
    public void Bind(CallContext context)
    {
        _context = context;
        foreach (var (name, value) in context.Parameters)
        {
            _variables[name] = value;
        }
        var now = _clock.GetLocalNow();
        _variables["call_id"] = context.CallId;
        _variables["provider"] = context.Provider;
        _variables["direction"] = context.Direction;
        _variables["caller_number"] = context.From ?? "";
        _variables["called_number"] = context.To ?? "";
        _variables["current_time"] = now.ToString("HH:mm", CultureInfo.InvariantCulture);
        _variables["current_date"] = now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        _variables["day_of_week"] = now.DayOfWeek.ToString().ToLowerInvariant();
        _variables["time_of_day"] = now.Hour switch { < 12 => "morning", < 18 => "afternoon", _ => "evening" };
    }

    public async IAsyncEnumerable<ConversationOutput> StartAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _toolRounds = 0;
        var preCall = _agent.PreCallToolIds.Select(id => _agent.Tools.GetValueOrDefault(id)).OfType<ToolDefinition>().ToList();
        var arguments = new JsonObject { ["caller_number"] = _context.From, ["called_number"] = _context.To };
        var running = preCall.Select(tool => _tools.InvokeAsync(tool, arguments, CallInfo(), cancellationToken)).ToList();
        foreach (var tool in preCall)
        {
            yield return Traced("tool_called", ("tool", tool.Name), ("node", null), ("pre_call", true), ("arguments", arguments.ToJsonString(ToolResult.Readable)));
        }
        if (!string.IsNullOrWhiteSpace(_agent.Greeting))
        {
            var greeting = Render(_agent.Greeting, null);
            foreach (var output in Drain())
            {
                yield return output;
            }
            yield return new Say(greeting);
            _history.Add(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.Assistant, greeting));
        }
        var results = await Task.WhenAll(running);
        for (var i = 0; i < preCall.Count; i++)
        {
            yield return ToolTrace(preCall[i], results[i], null);
            Store(results[i], new Dictionary<string, string>());
        }
        if (_agent.Flow is null && _chat is not null)
        {
            // A freeform agent: one prompt, its tools, end_call. With a greeting it listens first; without, the model opens.
            var freeform = FreeformNode();
            _current = freeform;
            _talking = freeform;
            yield return Traced("node_entered", ("node", freeform.Key), ("type", "conversation"));
            if (string.IsNullOrWhiteSpace(_agent.Greeting))
            {
                await foreach (var output in RespondAndMoveAsync(freeform, cancellationToken))
                {
                    yield return output;
                }
            }
            yield break;
        }
        if (_agent.Flow?.Initial is not { } initial)
        {
            yield return Traced("error", ("message", _agent.Flow is null
                ? "this agent has no flow and freeform agents need a language model, which is not configured"
                : "the flow has no initial node"));
            yield return new Say("Sorry, this line is not set up yet. Goodbye.");
            yield return new HangUp("agent is not set up");
            yield break;
        }
        await foreach (var output in GoAsync(initial.Key, "start", cancellationToken))
        {
            yield return output;
        }
    }

    public IAsyncEnumerable<ConversationOutput> UserSpokeAsync(string text, CancellationToken cancellationToken) =>
        _talking is not null ? TalkAsync(text, null, cancellationToken) : AnswerAsync(text, null, cancellationToken);

    public async IAsyncEnumerable<ConversationOutput> DtmfAsync(char digit, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_talking is not null)
        {
            await foreach (var output in TalkAsync($"(the caller pressed the key {digit})", digit, cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        if (_waiting is not { } ask)
        {
            yield break;
        }
        var keyed = ask.Intents.Any(i => i.Dtmf == digit.ToString()) || _agent.Flow!.Globals.Any(g => g.Global!.Dtmf == digit.ToString());
        var collects = ask.Captures.Any(c => c.Pattern is CapturePattern.Digits or CapturePattern.Number or CapturePattern.Phone);
        if (keyed && _digits.Length == 0 || !collects)
        {
            await foreach (var output in AnswerAsync(digit.ToString(), digit, cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        if (digit != '#')
        {
            _digits += digit;
        }
        var max = ask.Captures.Where(c => c.MaxDigits > 0).Select(c => c.MaxDigits).DefaultIfEmpty(0).Max();
        if (digit == '#' || (max > 0 && _digits.Length >= max))
        {
            var typed = _digits;
            _digits = "";
            await foreach (var output in AnswerAsync(typed, null, cancellationToken))
            {
                yield return output;
            }
        }
    }

    public async IAsyncEnumerable<ConversationOutput> UserIdleAsync(int times, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_talking is { } talking)
        {
            _toolRounds = 0;
            _history.Add(new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.System,
                $"The caller has said nothing for a while ({times} time{(times == 1 ? "" : "s")} in a row). Check briefly whether they are still there."));
            await foreach (var output in RespondAndMoveAsync(talking, cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        if (_waiting is not { } ask)
        {
            yield break;
        }
        if (_digits.Length > 0)
        {
            var typed = _digits;
            _digits = "";
            await foreach (var output in AnswerAsync(typed, null, cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        _toolRounds = 0;
        if (++_noInput <= ask.NoInput.Max)
        {
            yield return Speak(Render(ask.NoInput.Reprompt ?? ask.Prompt, ask));
            foreach (var output in Drain())
            {
                yield return output;
            }
            yield break;
        }
        await foreach (var output in FallBackAsync(ask, "no input", cancellationToken))
        {
            yield return output;
        }
    }

    public void Interrupted(string spoken)
    {
        LastInterruptedAt = spoken;
        if (_lastReply is { } reply)
        {
            // The model is told what the caller actually heard, not what it wrote.
            var heard = spoken.Trim().Length > 0 ? $"{spoken.Trim()} [cut off here: the caller interrupted]" : "[the caller interrupted before hearing any of this reply]";
            reply.Contents = [new Microsoft.Extensions.AI.TextContent(heard), .. reply.Contents.Where(c => c is not Microsoft.Extensions.AI.TextContent)];
            _lastReply = null;
        }
    }

    /// <summary>What the agent had said when the caller last cut it off.</summary>
    public string? LastInterruptedAt { get; private set; }

    // ------------------------------------------------------------------ answers

    private async IAsyncEnumerable<ConversationOutput> AnswerAsync(string text, char? digit, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_waiting is not { } ask)
        {
            yield break;
        }
        _toolRounds = 0;
        var intent = digit is { } d
            ? ask.Intents.FirstOrDefault(i => i.Dtmf == d.ToString())
            : Understanding.MatchIntent(text, ask.Intents, ask.MatchThreshold)?.Intent;
        if (intent is not null)
        {
            await foreach (var output in GoAsync(intent.Next, $"intent {intent.Name}", cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        if (digit is null && ask.Captures.Count > 0)
        {
            var now = _clock.GetLocalNow();
            foreach (var capture in ask.Captures)
            {
                if (Understanding.Extract(capture, text, now) is { } value)
                {
                    _variables[capture.Variable] = value;
                    _capturedHere.Add(capture.Variable);
                    yield return Traced("node_transition", ("from", ask.Key), ("to", ask.Key), ("reason", $"captured {capture.Variable}"), ("value", value));
                }
            }
            var complete = ask.Captures.All(c => !c.Required || _capturedHere.Contains(c.Variable));
            if (complete && ask.Next is { } next)
            {
                await foreach (var output in GoAsync(next, "captured", cancellationToken))
                {
                    yield return output;
                }
                yield break;
            }
        }
        var key = digit?.ToString();
        var global = _agent.Flow!.Globals.FirstOrDefault(g => key is not null
            ? g.Global!.Dtmf == key
            : Understanding.MatchesAny(text, g.Global!.Phrases, ask.MatchThreshold));
        if (global is not null && global.Key != ask.Key)
        {
            _returnTo.Push(ask.Key);
            await foreach (var output in GoAsync(global.Key, "global", cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        if (++_noMatch <= ask.NoMatch.Max)
        {
            yield return Speak(Render(ask.NoMatch.Reprompt ?? ask.Prompt, ask));
            foreach (var output in Drain())
            {
                yield return output;
            }
            yield break;
        }
        await foreach (var output in FallBackAsync(ask, "no match", cancellationToken))
        {
            yield return output;
        }
    }

    // A required capture counts as done only when this visit of the node filled it.
    private readonly HashSet<string> _capturedHere = new(StringComparer.Ordinal);

    private async IAsyncEnumerable<ConversationOutput> FallBackAsync(AskNode ask, string why, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ask.Fallback is { } fallback)
        {
            await foreach (var output in GoAsync(fallback, why, cancellationToken))
            {
                yield return output;
            }
            yield break;
        }
        yield return Traced("warning", ("message", $"{why} at {ask.Key} and no fallback edge: ending the call"), ("node", ask.Key));
        yield return new HangUp($"{why} at {ask.Key}");
    }

    // ------------------------------------------------------------------ walking the flow

    private async IAsyncEnumerable<ConversationOutput> GoAsync(string key, string reason, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var flow = _agent.Flow!;
        string? next = key;
        var hops = 0;
        while (next is not null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (++hops > MaxAutomaticTransitions)
            {
                yield return Traced("warning", ("message", $"more than {MaxAutomaticTransitions} automatic transitions in one turn; the flow is stopped"), ("node", _current?.Key));
                yield return new HangUp("flow stopped: too many automatic transitions");
                yield break;
            }
            if (flow.Find(next) is not { } node)
            {
                yield return Traced("error", ("message", $"node '{next}' does not exist"), ("node", _current?.Key));
                yield return new HangUp($"flow error: node '{next}' does not exist");
                yield break;
            }
            if (_current is { } leaving)
            {
                await foreach (var output in ActionsAsync(leaving, leaving.PostActions, cancellationToken))
                {
                    yield return output;
                }
                yield return Traced("node_transition", ("from", leaving.Key), ("to", node.Key), ("reason", reason));
            }
            _current = node;
            _waiting = null;
            _talking = null;
            ExpectedPhrases = null;
            yield return Traced("node_entered", ("node", node.Key), ("type", TypeName(node)));
            await foreach (var output in ActionsAsync(node, node.PreActions, cancellationToken))
            {
                yield return output;
            }
            next = null;
            switch (node)
            {
                case SayNode say:
                    yield return Speak(Render(say.Text, node));
                    next = say.Next;
                    reason = "next";
                    break;
                case AskNode ask:
                    _waiting = ask;
                    _noMatch = 0;
                    _noInput = 0;
                    _digits = "";
                    _capturedHere.Clear();
                    ExpectedPhrases = Phrases(ask);
                    yield return Speak(Render(ask.Prompt, node));
                    break;
                case ToolNode toolNode:
                    ToolResult result;
                    if (_agent.Tools.GetValueOrDefault(toolNode.ToolId) is not { } tool)
                    {
                        result = new ToolResult(false, null, null, null, $"tool {toolNode.ToolId} does not exist", 0);
                        yield return Traced("error", ("message", result.Error), ("node", node.Key));
                    }
                    else
                    {
                        var args = RenderArguments(toolNode.Arguments, node);
                        yield return Traced("tool_called", ("tool", tool.Name), ("node", node.Key), ("arguments", args.ToJsonString(ToolResult.Readable)));
                        result = await CallToolAsync(tool, args, cancellationToken);
                        yield return ToolTrace(tool, result, node.Key);
                        if (result.Ok)
                        {
                            Store(result, toolNode.ResultVariables);
                        }
                    }
                    _variables["last_tool_error"] = result.Error ?? "";
                    next = result.Ok ? toolNode.OnSuccess : toolNode.OnFailure ?? toolNode.OnSuccess;
                    reason = result.Ok ? "success" : "failure";
                    break;
                case ConditionNode condition:
                    next = Conditions.Choose(condition, name => _variables.GetValueOrDefault(name), text => Render(text, node));
                    reason = next == condition.Else ? "else" : "condition";
                    if (next is null)
                    {
                        yield return Traced("warning", ("message", "no branch held and there is no else edge"), ("node", node.Key));
                    }
                    break;
                case TransferNode transfer:
                    var number = Render(transfer.Number, node).Trim();
                    if (transfer.Message is { Length: > 0 } message)
                    {
                        yield return Speak(Render(message, node));
                    }
                    foreach (var output in Drain())
                    {
                        yield return output;
                    }
                    if (number.Length == 0)
                    {
                        yield return Traced("error", ("message", "the transfer number is empty"), ("node", node.Key));
                        yield return new HangUp("transfer failed: no number");
                    }
                    else
                    {
                        yield return Traced("transfer", ("number", number), ("node", node.Key));
                        yield return new Transfer(number);
                    }
                    yield break;
                case EndNode end:
                    if (end.Text is { Length: > 0 } goodbye)
                    {
                        yield return Speak(Render(goodbye, node));
                    }
                    foreach (var output in Drain())
                    {
                        yield return output;
                    }
                    yield return new HangUp("agent ended the call");
                    yield break;
                case ConversationNode talk when _chat is null:
                    yield return Traced("error", ("message", "conversation nodes need a language model, which is not configured for this agent"), ("node", node.Key));
                    yield return new Say("Sorry, I cannot help with that on this line.");
                    yield return new HangUp("conversation node without a language model");
                    yield break;
                case ConversationNode talk:
                    _finished = false;
                    await foreach (var output in EnterConversationAsync(talk, cancellationToken))
                    {
                        yield return output;
                    }
                    if (_finished)
                    {
                        yield break;
                    }
                    if (_goTo is { } target)
                    {
                        _goTo = null;
                        next = target;
                        reason = _goReason;
                    }
                    else
                    {
                        _talking = talk; // the model has spoken; the caller's turn
                    }
                    break;
            }
            foreach (var output in Drain())
            {
                yield return output;
            }
            if (_waiting is not null || _talking is not null)
            {
                yield break;
            }
            if (next is null)
            {
                if (_returnTo.TryPop(out var back))
                {
                    next = back;
                    reason = "return from global";
                }
                else
                {
                    if (!node.IsTerminal)
                    {
                        yield return Traced("warning", ("message", "the flow ran out of edges; ending the call"), ("node", node.Key));
                    }
                    yield return new HangUp(node.IsTerminal ? "agent ended the call" : $"flow ended at {node.Key}");
                    yield break;
                }
            }
            else if (node.IsTerminal)
            {
                yield return new HangUp("agent ended the call");
                yield break;
            }
        }
    }

    private async IAsyncEnumerable<ConversationOutput> ActionsAsync(FlowNode node, IReadOnlyList<FlowAction> actions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var action in actions)
        {
            if (action.Say is { } text)
            {
                yield return Speak(Render(text, node));
            }
            else if (action.ToolId is { } id)
            {
                if (_agent.Tools.GetValueOrDefault(id) is not { } tool)
                {
                    yield return Traced("error", ("message", $"tool {id} does not exist"), ("node", node.Key));
                    continue;
                }
                var args = RenderArguments(action.Arguments, node);
                yield return Traced("tool_called", ("tool", tool.Name), ("node", node.Key), ("arguments", args.ToJsonString(ToolResult.Readable)));
                var result = await CallToolAsync(tool, args, cancellationToken);
                yield return ToolTrace(tool, result, node.Key);
                if (result.Ok)
                {
                    Store(result, action.ResultVariables);
                }
            }
            foreach (var output in Drain())
            {
                yield return output;
            }
        }
    }

    private async Task<ToolResult> CallToolAsync(ToolDefinition tool, JsonObject arguments, CancellationToken cancellationToken)
    {
        if (++_toolRounds > MaxToolRounds)
        {
            return new ToolResult(false, null, null, null, $"more than {MaxToolRounds} tool calls in one turn", 0);
        }
        return await _tools.InvokeAsync(tool, arguments, CallInfo(), cancellationToken);
    }

    private ToolCallContext CallInfo() => new(_context.CallId, _agent.Name, _context.From, _context.Direction, new Dictionary<string, string>(_variables));

    // ------------------------------------------------------------------ variables and text

    private void Store(ToolResult result, IReadOnlyDictionary<string, string> map)
    {
        if (map.Count > 0)
        {
            foreach (var (variable, path) in map)
            {
                _variables[variable] = Text(Select(result.Json, path)) ?? "";
            }
        }
        else if (result.Json is JsonObject obj)
        {
            foreach (var (name, value) in obj)
            {
                if (value is JsonValue)
                {
                    _variables[name] = Text(value) ?? "";
                }
            }
        }
    }

    private static JsonNode? Select(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = part;
            var index = -1;
            if (part.EndsWith(']') && part.IndexOf('[', StringComparison.Ordinal) is > 0 and var open
                && int.TryParse(part[(open + 1)..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            {
                name = part[..open];
                index = i;
            }
            node = node is JsonObject o ? o[name] : null;
            if (index >= 0)
            {
                node = node is JsonArray a && index < a.Count ? a[index] : null;
            }
        }
        return node;
    }

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        _ => node.ToJsonString(ToolResult.Readable),
    };

    private string Render(string template, FlowNode? node) =>
        Templates.Render(template, _variables, missing => _pending.Add(Traced("warning",
            ("message", missing.StartsWith("template error", StringComparison.Ordinal) ? missing : $"variable '{missing}' has no value; rendered empty"),
            ("node", node?.Key))));

    private JsonObject RenderArguments(JsonObject arguments, FlowNode node)
    {
        JsonNode? Walk(JsonNode? value) => value switch
        {
            JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Walk(p.Value)))),
            JsonArray a => new JsonArray([.. a.Select(Walk)]),
            JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(Render(s, node)),
            _ => value?.DeepClone(),
        };
        return (JsonObject)Walk(arguments)!;
    }

    private List<ConversationOutput> Drain()
    {
        var drained = _pending.ToList();
        _pending.Clear();
        return drained;
    }

    private static Say Speak(string text) => new(text);

    private static Trace Traced(string type, params (string Key, object? Value)[] data) =>
        new(type, data.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal));

    private static Trace ToolTrace(ToolDefinition tool, ToolResult result, string? node)
    {
        var content = result.Content;
        return Traced("tool_result", ("tool", tool.Name), ("node", node), ("ok", result.Ok), ("status", result.Status),
            ("latency_ms", Math.Round(result.LatencyMs, 1)), ("result", content.Length > 2000 ? content[..2000] + "…" : content), ("error", result.Error));
    }

    private static string TypeName(FlowNode node) => node switch
    {
        SayNode => "say",
        AskNode => "ask",
        ToolNode => "tool",
        ConditionNode => "condition",
        TransferNode => "transfer",
        EndNode => "end",
        _ => "conversation",
    };

    private List<string>? Phrases(AskNode ask)
    {
        var phrases = new List<string>();
        foreach (var intent in ask.Intents)
        {
            phrases.AddRange(intent.Phrases);
            phrases.AddRange(intent.Keywords);
        }
        foreach (var capture in ask.Captures)
        {
            if (capture.Pattern == CapturePattern.Name && capture.Phrases.Count > 0)
            {
                foreach (var name in capture.Phrases)
                {
                    phrases.AddRange([name, $"my name is {name}", $"this is {name}", $"i am {name}"]);
                }
            }
            else if (capture.Phrases.Count > 0 || Understanding.PatternPhrases(capture.Pattern) is not null)
            {
                foreach (var phrase in capture.Phrases.Concat(Understanding.PatternPhrases(capture.Pattern) ?? []))
                {
                    phrases.AddRange([phrase, $"on {phrase}", $"{phrase} please"]);
                }
            }
            else
            {
                return null; // an open capture (free text, numbers, dates): the full language model listens
            }
        }
        foreach (var global in _agent.Flow!.Globals)
        {
            phrases.AddRange(global.Global!.Phrases);
        }
        return phrases.Count == 0 ? null : phrases.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
