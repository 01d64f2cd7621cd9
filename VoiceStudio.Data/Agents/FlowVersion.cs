namespace VoiceStudio.Data.Agents;

/// <summary>A numbered snapshot of an agent's whole flow, kept on every save; calls record the one they ran.</summary>
public sealed class FlowVersion
{
    public Guid Id { get; set; }
    public Guid AgentId { get; set; }
    public Agent? Agent { get; set; }
    public int Version { get; set; }
    /// <summary>JSON: the nodes as saved.</summary>
    public string Definition { get; set; } = "[]";
    public string? Note { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
