using System.Text.Json.Nodes;

namespace VoiceStudio.Media.Flows;

/// <summary>
/// What the runtime needs to know of an agent, as plain records (mapped from the database by the web layer):
/// its greeting, variables, tools and, for a flow agent, the flow it runs.
/// </summary>
public sealed record AgentDefinition
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public string? Greeting { get; init; }
    public string SystemPrompt { get; init; } = "";
    /// <summary>Default values of the agent's variables (name → value).</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();
    /// <summary>Every tool the agent or its nodes refer to, by id.</summary>
    public IReadOnlyDictionary<Guid, ToolDefinition> Tools { get; init; } = new Dictionary<Guid, ToolDefinition>();
    public IReadOnlyList<Guid> PreCallToolIds { get; init; } = [];
    /// <summary>The tools a freeform agent offers its model.</summary>
    public IReadOnlyList<Guid> ToolIds { get; init; } = [];
    /// <summary>The agent's language model; null when it has none (deterministic nodes only).</summary>
    public Llm.LlmSettings? Llm { get; init; }
    /// <summary>Null for a freeform agent (one prompt, driven by the LLM).</summary>
    public FlowDefinition? Flow { get; init; }
    public int? FlowVersion { get; init; }
}

/// <summary>An HTTP tool (SPEC §7): a JSON POST of the arguments, or a GET with them as the query.</summary>
public sealed record ToolDefinition
{
    public Guid Id { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    /// <summary>JSON Schema of the arguments (OpenAI function format).</summary>
    public string Parameters { get; init; } = """{"type":"object","properties":{}}""";
    public required Uri Url { get; init; }
    public bool UseGet { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>A flow: its nodes, one of them initial.</summary>
public sealed record FlowDefinition(IReadOnlyList<FlowNode> Nodes)
{
    private readonly Dictionary<string, FlowNode> _byKey = Nodes.GroupBy(n => n.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    public FlowNode? Initial => Nodes.FirstOrDefault(n => n.IsInitial);

    public FlowNode? Find(string key) => _byKey.GetValueOrDefault(key);

    public IEnumerable<FlowNode> Globals => Nodes.Where(n => n.Global is not null);
}

/// <summary>What every node has; the subtypes add their own fields (SPEC §7).</summary>
public abstract record FlowNode
{
    public required string Key { get; init; }
    public bool IsInitial { get; init; }
    public bool IsTerminal { get; init; }
    public bool AllowInterrupt { get; init; } = true;
    /// <summary>Set on a global node: what makes it fire from anywhere.</summary>
    public GlobalTrigger? Global { get; init; }
    public IReadOnlyList<FlowAction> PreActions { get; init; } = [];
    public IReadOnlyList<FlowAction> PostActions { get; init; } = [];

    /// <summary>The keys of the nodes this one can lead to, with the field that names each (for validation).</summary>
    public abstract IEnumerable<(string Field, string Target)> Edges { get; }

    protected static IEnumerable<(string, string)> Some(params (string Field, string? Target)[] edges) =>
        edges.Where(e => !string.IsNullOrEmpty(e.Target)).Select(e => (e.Field, e.Target!));
}

/// <summary>Speaks its text, then follows its edge.</summary>
public sealed record SayNode : FlowNode
{
    public string Text { get; init; } = "";
    public string? Next { get; init; }

    public override IEnumerable<(string Field, string Target)> Edges => Some(("config.next_node_key", Next));
}

/// <summary>Speaks a prompt and listens: intents, captures, no-match and no-input handling.</summary>
public sealed record AskNode : FlowNode
{
    public string Prompt { get; init; } = "";
    public IReadOnlyList<Intent> Intents { get; init; } = [];
    public IReadOnlyList<Capture> Captures { get; init; } = [];
    /// <summary>Where to go once every required capture has a value.</summary>
    public string? Next { get; init; }
    public Retry NoMatch { get; init; } = new(null, 2);
    public Retry NoInput { get; init; } = new(null, 2);
    /// <summary>Where to go when the retries run out (none: the call ends).</summary>
    public string? Fallback { get; init; }
    /// <summary>Fuzzy score (0–100) an utterance needs to match an intent phrase.</summary>
    public int MatchThreshold { get; init; } = 80;

    public override IEnumerable<(string Field, string Target)> Edges =>
        Intents.Select((i, n) => ($"config.intents[{n}].next_node_key", i.Next))
            .Concat(Some(("config.next_node_key", Next), ("config.fallback_node_key", Fallback)));
}

/// <summary>Calls an HTTP tool with templated arguments; branches on success or failure.</summary>
public sealed record ToolNode : FlowNode
{
    public Guid ToolId { get; init; }
    /// <summary>A JSON object whose strings are templates.</summary>
    public JsonObject Arguments { get; init; } = [];
    /// <summary>Variable name → path into the result ("slots[0]", "data.code"); empty: top-level values by their names.</summary>
    public IReadOnlyDictionary<string, string> ResultVariables { get; init; } = new Dictionary<string, string>();
    public string? OnSuccess { get; init; }
    public string? OnFailure { get; init; }

    public override IEnumerable<(string Field, string Target)> Edges =>
        Some(("config.on_success_node_key", OnSuccess), ("config.on_failure_node_key", OnFailure));
}

/// <summary>Branches on rules over variables; the first branch whose rules hold wins.</summary>
public sealed record ConditionNode : FlowNode
{
    public IReadOnlyList<ConditionBranch> Branches { get; init; } = [];
    public string? Else { get; init; }

    public override IEnumerable<(string Field, string Target)> Edges =>
        Branches.Select((b, n) => ($"config.branches[{n}].next_node_key", b.Next)).Concat(Some(("config.else_node_key", Else)));
}

/// <summary>Says its message and transfers the call to a number.</summary>
public sealed record TransferNode : FlowNode
{
    public string Number { get; init; } = "";
    public string? Message { get; init; }

    public override IEnumerable<(string Field, string Target)> Edges => [];
}

/// <summary>Says goodbye and hangs up.</summary>
public sealed record EndNode : FlowNode
{
    public string? Text { get; init; }

    public override IEnumerable<(string Field, string Target)> Edges => [];
}

/// <summary>An LLM step: role and task messages, transition functions, tools.</summary>
public sealed record ConversationNode : FlowNode
{
    public IReadOnlyList<ChatText> RoleMessages { get; init; } = [];
    public IReadOnlyList<ChatText> TaskMessages { get; init; } = [];
    public IReadOnlyList<TransitionFunction> Functions { get; init; } = [];
    public IReadOnlyList<Guid> ToolIds { get; init; } = [];
    public IReadOnlyList<string> BuiltinTools { get; init; } = [];
    public ContextStrategy Context { get; init; } = ContextStrategy.Append;
    /// <summary>Whether the model speaks as soon as the node is entered (otherwise it waits for the caller).</summary>
    public bool RespondImmediately { get; init; } = true;
    /// <summary>Where transfer_call sends the caller; empty lets the model give the number.</summary>
    public string? TransferNumber { get; init; }

    public override IEnumerable<(string Field, string Target)> Edges =>
        Functions.Select((f, n) => ($"functions[{n}].next_node_key", f.Next)).Where(e => !string.IsNullOrEmpty(e.Next))!;
}

public sealed record Intent(string Name, IReadOnlyList<string> Phrases, IReadOnlyList<string> Keywords, string? Dtmf, string Next);

/// <summary>A value to take from what the caller said: a built-in pattern or a regular expression.</summary>
public sealed record Capture(string Variable, CapturePattern Pattern, IReadOnlyList<string> Phrases, string? Regex = null, bool Required = true, int MaxDigits = 0);

public enum CapturePattern
{
    Text,
    Weekday,
    Date,
    YesNo,
    Number,
    Digits,
    Phone,
    Name,
    Regex,
}

public sealed record Retry(string? Reprompt, int Max);

public sealed record GlobalTrigger(IReadOnlyList<string> Phrases, string? Dtmf);

/// <summary>Run on entering (pre) or leaving (post) a node: call a tool (results into variables) or say something.</summary>
public sealed record FlowAction(Guid? ToolId, JsonObject Arguments, IReadOnlyDictionary<string, string> ResultVariables, string? Say);

public sealed record ConditionBranch(bool MatchAll, IReadOnlyList<ConditionRule> Rules, string Next);

public sealed record ConditionRule(string Variable, ConditionOperator Operator, string? Value);

public enum ConditionOperator
{
    Equals,
    NotEquals,
    Contains,
    NotContains,
    StartsWith,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    IsEmpty,
    IsNotEmpty,
    IsTrue,
    IsFalse,
}

public sealed record ChatText(string Role, string Content);

public sealed record TransitionFunction(string Name, string Description, string? Parameters, string? Next);

public enum ContextStrategy
{
    Append,
    Reset,
    ResetWithSummary,
}
