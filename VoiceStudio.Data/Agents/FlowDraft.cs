namespace VoiceStudio.Data.Agents;

/// <summary>
/// The designer's unpublished work on an agent's flow, autosaved. <see cref="Revision"/> goes up on every save so two
/// designers on the same agent see a conflict instead of overwriting each other; publishing makes it a version.
/// </summary>
public sealed class FlowDraft
{
    public Guid AgentId { get; set; }
    public Agent? Agent { get; set; }
    /// <summary>JSON: the nodes, in the flow document's format.</summary>
    public string Document { get; set; } = "[]";
    public int Revision { get; set; }
    /// <summary>The published version the draft started from (null: the agent had none).</summary>
    public int? BaseVersion { get; set; }
    public string? UpdatedBy { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
