using Microsoft.EntityFrameworkCore;

namespace VoiceStudio.Data.Agents;

public sealed record AgentSummary(Guid Id, string Name, string? Description, string SttProvider, string? LlmProvider, string TtsProvider, int NodeCount, int CallCount, DateTimeOffset UpdatedAt);

public static class AgentQueries
{
    /// <summary>Agents with their node and call counts, by name.</summary>
    public static Task<List<AgentSummary>> ListWithCountsAsync(this VoiceStudioDbContext db, CancellationToken cancellationToken = default) =>
        db.Agents.AsNoTracking()
            .OrderBy(a => a.Name)
            .Select(a => new AgentSummary(a.Id, a.Name, a.Description, a.SttProvider, a.LlmProvider, a.TtsProvider,
                a.Nodes.Count, db.Calls.Count(c => c.AgentId == a.Id), a.UpdatedAt))
            .ToListAsync(cancellationToken);
}
