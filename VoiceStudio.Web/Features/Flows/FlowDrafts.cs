using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Media.Flows;

namespace VoiceStudio.Web.Features.Flows;

/// <summary>What the designer opens: the draft if there is one, else the published flow.</summary>
public sealed record DesignerState(JsonArray Document, int Revision, int? BaseVersion, int? CurrentVersion, string? UpdatedBy, DateTimeOffset? UpdatedAt);

/// <summary>The outcome of an autosave or a publish: saved, or who got there first.</summary>
public sealed record DraftSave(bool Saved, int Revision, string? ConflictBy, DateTimeOffset? ConflictAt, IReadOnlyList<FlowProblem> Problems, int? Version);

/// <summary>
/// Drafts of flows: autosaved with optimistic concurrency (each save names the revision it started from; a save
/// from an older revision is refused with who saved in between), published as a numbered flow version.
/// </summary>
public static class FlowDrafts
{
    public static async Task<DesignerState> OpenAsync(VoiceStudioDbContext db, Agent agent, CancellationToken cancellationToken)
    {
        var current = await db.FlowVersions.Where(v => v.AgentId == agent.Id).MaxAsync(v => (int?)v.Version, cancellationToken);
        var draft = await db.FlowDrafts.AsNoTracking().FirstOrDefaultAsync(d => d.AgentId == agent.Id, cancellationToken);
        if (draft is not null)
        {
            return new DesignerState(JsonNode.Parse(draft.Document)!.AsArray(), draft.Revision, draft.BaseVersion, current, draft.UpdatedBy, draft.UpdatedAt);
        }
        var nodes = await db.FlowNodes.AsNoTracking().Where(n => n.AgentId == agent.Id).OrderBy(n => n.CreatedAt).ToListAsync(cancellationToken);
        return new DesignerState(FlowDocument.Write(nodes), 0, current, current, null, null);
    }

    /// <summary>Stores the draft if nobody saved since <paramref name="expectedRevision"/> (0: there was no draft).</summary>
    public static async Task<DraftSave> SaveAsync(VoiceStudioDbContext db, Guid agentId, JsonArray document, int expectedRevision, int? baseVersion,
        string? user, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var json = document.ToJsonString();
        int changed;
        if (expectedRevision == 0)
        {
            changed = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO flow_drafts (agent_id, document, revision, base_version, updated_by, updated_at)
                VALUES ({agentId}, {json}::jsonb, 1, {baseVersion}, {user}, {now}) ON CONFLICT (agent_id) DO NOTHING
                """, cancellationToken);
        }
        else
        {
            changed = await db.Database.ExecuteSqlAsync($"""
                UPDATE flow_drafts SET document = {json}::jsonb, revision = revision + 1, updated_by = {user}, updated_at = {now}
                WHERE agent_id = {agentId} AND revision = {expectedRevision}
                """, cancellationToken);
        }
        if (changed == 1)
        {
            return new DraftSave(true, expectedRevision + 1, null, null, [], null);
        }
        var other = await db.FlowDrafts.AsNoTracking().FirstOrDefaultAsync(d => d.AgentId == agentId, cancellationToken);
        return new DraftSave(false, other?.Revision ?? 0, other?.UpdatedBy ?? "someone", other?.UpdatedAt, [], null);
    }

    /// <summary>
    /// Validates the document and saves it as the next flow version, then drops the draft. Refused with the problems
    /// when the flow is not valid, and as a conflict when someone published since <paramref name="baseVersion"/>
    /// (unless <paramref name="force"/>).
    /// </summary>
    public static async Task<DraftSave> PublishAsync(VoiceStudioDbContext db, Agent agent, JsonArray document, int? baseVersion, bool force, string? note,
        string? user, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tools = await db.Tools.Select(t => t.Id).ToListAsync(cancellationToken);
        var problems = FlowDocument.Validate(document, tools, out var nodes);
        if (problems.Count > 0)
        {
            return new DraftSave(false, 0, null, null, problems, null);
        }
        var latest = await db.FlowVersions.AsNoTracking().Where(v => v.AgentId == agent.Id).OrderByDescending(v => v.Version).FirstOrDefaultAsync(cancellationToken);
        if (!force && latest is not null && latest.Version != baseVersion)
        {
            return new DraftSave(false, 0, latest.CreatedBy ?? "someone", latest.CreatedAt, [], latest.Version);
        }
        var version = await FlowStore.SaveAsync(db, agent, nodes, note, user, now, cancellationToken);
        await db.FlowDrafts.Where(d => d.AgentId == agent.Id).ExecuteDeleteAsync(cancellationToken);
        return new DraftSave(true, 0, null, null, [], version.Version);
    }

    /// <summary>Throws the draft away: the designer reopens on the published flow.</summary>
    public static Task DiscardAsync(VoiceStudioDbContext db, Guid agentId, CancellationToken cancellationToken) =>
        db.FlowDrafts.Where(d => d.AgentId == agentId).ExecuteDeleteAsync(cancellationToken);
}
