using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using FlowNode = VoiceStudio.Data.Agents.FlowNode;

namespace VoiceStudio.Web.Features.Flows;

/// <summary>
/// Saving a flow: the agent's nodes are replaced as a whole and the result kept as the next numbered version, in
/// one transaction that holds the agent's row, so two saves at once queue instead of racing for a version number.
/// </summary>
public static class FlowStore
{
    /// <summary>Finds an agent by id or by its unique name.</summary>
    public static Task<Agent?> FindAgentAsync(VoiceStudioDbContext db, string idOrName, CancellationToken cancellationToken) =>
        Guid.TryParse(idOrName, out var id)
            ? db.Agents.FirstOrDefaultAsync(a => a.Id == id, cancellationToken)
            : db.Agents.FirstOrDefaultAsync(a => a.Name == idOrName, cancellationToken);

    /// <summary>Replaces the agent's nodes with <paramref name="nodes"/> (already validated) and stores a new version.</summary>
    public static async Task<FlowVersion> SaveAsync(VoiceStudioDbContext db, Agent agent, IReadOnlyList<FlowNode> nodes, string? note, string? user,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ownTransaction = db.Database.CurrentTransaction is null;
        await using var transaction = ownTransaction ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        await db.Database.ExecuteSqlAsync($"SELECT id FROM agents WHERE id = {agent.Id} FOR UPDATE", cancellationToken);
        await db.FlowNodes.Where(n => n.AgentId == agent.Id).ExecuteDeleteAsync(cancellationToken);
        for (var i = 0; i < nodes.Count; i++)
        {
            // Rows are read back ordered by creation time: a microsecond apart keeps the order they were given in.
            var node = nodes[i];
            node.Id = Guid.CreateVersion7();
            node.AgentId = agent.Id;
            node.CreatedAt = node.UpdatedAt = now.AddTicks(i * TimeSpan.TicksPerMicrosecond);
            db.FlowNodes.Add(node);
        }
        var last = await db.FlowVersions.Where(v => v.AgentId == agent.Id).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0;
        var version = new FlowVersion
        {
            Id = Guid.CreateVersion7(),
            AgentId = agent.Id,
            Version = last + 1,
            Definition = FlowDocument.Write(nodes).ToJsonString(),
            Note = string.IsNullOrWhiteSpace(note) ? null : note.Trim()[..Math.Min(note.Trim().Length, 500)],
            CreatedBy = user,
            CreatedAt = now,
        };
        db.FlowVersions.Add(version);
        agent.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
        return version;
    }
}
