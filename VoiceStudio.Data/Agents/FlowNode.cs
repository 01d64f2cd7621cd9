namespace VoiceStudio.Data.Agents;

/// <summary>One node of an agent's conversation flow. An agent without nodes is freeform.</summary>
public sealed class FlowNode
{
    public Guid Id { get; set; }
    public Guid AgentId { get; set; }
    public Agent? Agent { get; set; }

    /// <summary>Unique within the agent; transitions name their target by this key.</summary>
    public required string NodeKey { get; set; }
    public FlowNodeType Type { get; set; }
    public bool IsInitial { get; set; }
    public bool IsTerminal { get; set; }
    /// <summary>Enterable from anywhere when its trigger (in <see cref="Config"/>) fires; returns afterwards.</summary>
    public bool IsGlobal { get; set; }

    /// <summary>JSON array of {role, content} messages (templated).</summary>
    public string RoleMessages { get; set; } = "[]";
    public string TaskMessages { get; set; } = "[]";
    /// <summary>JSON array of transition functions: {name, description, parameters, next_node_key}.</summary>
    public string Functions { get; set; } = "[]";
    public List<Guid> ToolIds { get; set; } = [];
    /// <summary>Subset of end_call, transfer_call.</summary>
    public List<string> BuiltinTools { get; set; } = [];
    public string PreActions { get; set; } = "[]";
    public string PostActions { get; set; } = "[]";
    public bool AllowInterrupt { get; set; } = true;
    public double PositionX { get; set; }
    public double PositionY { get; set; }
    /// <summary>JSON object with the per-type fields (intents, captures, conditions, tool call, transfer target…).</summary>
    public string Config { get; set; } = "{}";

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum FlowNodeType
{
    Conversation,
    Say,
    Ask,
    Tool,
    Condition,
    Transfer,
    End,
}
