using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Media.Flows;
using VoiceStudio.Web.Features.Auth;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Flows;

/// <summary>
/// The flow API (SPEC §8): <c>GET/PUT /api/agents/{agent}/flow</c> (the whole flow, replaced as one document and
/// validated first), the versions every save keeps (list, get one, restore), and agent export/import. <c>{agent}</c>
/// is the agent's id or its name. Designers and admins only.
/// </summary>
public static class FlowEndpoints
{
    public static IEndpointRouteBuilder MapFlowEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents").RequireAuthorization(AuthSetup.Designers).WithTags("flows");

        api.MapGet("/{agent}/flow", async (string agent, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
                {
                    return Api.NotFound($"agent '{agent}' does not exist");
                }
                return Results.Json(await FlowAsync(db, row, cancellationToken));
            })
            .WithSummary("The agent's flow: its nodes and the version they are");

        api.MapPut("/{agent}/flow", async (string agent, HttpRequest request, ClaimsPrincipal user, IDbContextFactory<VoiceStudioDbContext> dbFactory,
                TimeProvider clock, CancellationToken cancellationToken) =>
            {
                var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
                if (body is null)
                {
                    return Api.BadRequest(error!);
                }
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
                {
                    return Api.NotFound($"agent '{agent}' does not exist");
                }
                if (body["nodes"] is null)
                {
                    return Api.BadRequest("the body needs \"nodes\": the array of the flow's nodes (an empty array makes the agent freeform)");
                }
                var tools = await db.Tools.Select(t => t.Id).ToListAsync(cancellationToken);
                var problems = FlowDocument.Validate(body["nodes"], tools, out var nodes);
                if (problems.Count > 0)
                {
                    return Api.Invalid(problems);
                }
                var note = body["note"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : null;
                await FlowStore.SaveAsync(db, row, nodes, note, user.Identity?.Name, clock.GetUtcNow(), cancellationToken);
                return Results.Json(await FlowAsync(db, row, cancellationToken));
            })
            .WithSummary("Replace the agent's flow (validated; saved as a new version)");

        api.MapGet("/{agent}/flow/versions", async (string agent, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
                {
                    return Api.NotFound($"agent '{agent}' does not exist");
                }
                var versions = await db.FlowVersions.AsNoTracking().Where(v => v.AgentId == row.Id).OrderByDescending(v => v.Version)
                    .Select(v => new { v.Id, v.Version, v.Note, v.CreatedBy, v.CreatedAt, v.Definition }).ToListAsync(cancellationToken);
                var calls = await db.Calls.AsNoTracking().Where(c => c.AgentId == row.Id && c.FlowVersionId != null)
                    .GroupBy(c => c.FlowVersionId).Select(g => new { Id = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Id!.Value, g => g.Count, cancellationToken);
                return Results.Json(versions.Select((v, i) => new
                {
                    id = v.Id,
                    version = v.Version,
                    note = v.Note,
                    created_by = v.CreatedBy,
                    created_at = v.CreatedAt,
                    node_count = (JsonNode.Parse(v.Definition) as JsonArray)?.Count ?? 0,
                    call_count = calls.GetValueOrDefault(v.Id),
                    current = i == 0,
                }));
            })
            .WithSummary("Every saved version of the agent's flow, newest first");

        api.MapGet("/{agent}/flow/versions/{version:int}", async (string agent, int version, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
                {
                    return Api.NotFound($"agent '{agent}' does not exist");
                }
                if (await db.FlowVersions.AsNoTracking().FirstOrDefaultAsync(v => v.AgentId == row.Id && v.Version == version, cancellationToken) is not { } saved)
                {
                    return Api.NotFound($"agent '{row.Name}' has no flow version {version}");
                }
                return Results.Json(Version(row, saved));
            })
            .WithSummary("One saved version of the agent's flow");

        api.MapPost("/{agent}/flow/versions/{version:int}/restore", async (string agent, int version, ClaimsPrincipal user,
                IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
                {
                    return Api.NotFound($"agent '{agent}' does not exist");
                }
                if (await db.FlowVersions.AsNoTracking().FirstOrDefaultAsync(v => v.AgentId == row.Id && v.Version == version, cancellationToken) is not { } saved)
                {
                    return Api.NotFound($"agent '{row.Name}' has no flow version {version}");
                }
                var tools = await db.Tools.Select(t => t.Id).ToListAsync(cancellationToken);
                var problems = FlowDocument.Validate(JsonNode.Parse(saved.Definition), tools, out var nodes);
                if (problems.Count > 0)
                {
                    // e.g. a tool the old version used has been deleted since
                    return Api.Invalid(problems, StatusCodes.Status409Conflict, $"version {version} is no longer valid and cannot be restored");
                }
                await FlowStore.SaveAsync(db, row, nodes, $"restored from version {version}", user.Identity?.Name, clock.GetUtcNow(), cancellationToken);
                return Results.Json(await FlowAsync(db, row, cancellationToken));
            })
            .WithSummary("Make an old version current again (saved as a new version)");

        api.MapGet("/{agent}/export", async (string agent, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
                {
                    return Api.NotFound($"agent '{agent}' does not exist");
                }
                var document = await AgentTransfer.ExportAsync(db, row, clock.GetUtcNow(), cancellationToken);
                return Results.Text(document.ToJsonString(Indented), "application/json", statusCode: StatusCodes.Status200OK);
            })
            .WithSummary("The agent, its flow and the tools it uses as one JSON document");

        api.MapPost("/import", async (HttpRequest request, string? name, ClaimsPrincipal user, IDbContextFactory<VoiceStudioDbContext> dbFactory,
                TimeProvider clock, CancellationToken cancellationToken) =>
            {
                var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
                if (body is null)
                {
                    return Api.BadRequest(error!);
                }
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                var result = await AgentTransfer.ImportAsync(db, body, name, user.Identity?.Name, clock.GetUtcNow(), cancellationToken);
                return result.Problems.Count > 0
                    ? Api.Invalid(result.Problems, result.Status)
                    : Results.Json(new
                    {
                        id = result.Agent!.Id,
                        name = result.Agent.Name,
                        nodes = result.Agent.Nodes.Count,
                        tools_created = result.ToolsCreated,
                        tools_reused = result.ToolsReused,
                    }, statusCode: StatusCodes.Status201Created);
            })
            .WithSummary("Create an agent (with its flow and tools) from an exported document; ?name= renames it");
        return app;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static async Task<object> FlowAsync(VoiceStudioDbContext db, Agent agent, CancellationToken cancellationToken)
    {
        var nodes = await db.FlowNodes.AsNoTracking().Where(n => n.AgentId == agent.Id).OrderBy(n => n.CreatedAt).ThenBy(n => n.Id).ToListAsync(cancellationToken);
        var version = await db.FlowVersions.AsNoTracking().Where(v => v.AgentId == agent.Id).OrderByDescending(v => v.Version)
            .Select(v => new { v.Id, v.Version }).FirstOrDefaultAsync(cancellationToken);
        return new
        {
            agent_id = agent.Id,
            agent_name = agent.Name,
            version = version?.Version,
            version_id = version?.Id,
            freeform = nodes.Count == 0,
            nodes = FlowDocument.Write(nodes),
            warnings = Warnings(nodes),
        };
    }

    /// <summary>What the flow cannot do on every provider, for the designer to see while building it (not errors: saving is allowed).</summary>
    public static IEnumerable<object> Warnings(IEnumerable<Data.Agents.FlowNode> nodes) =>
        nodes.Where(n => n.Type == FlowNodeType.Transfer || n.BuiltinTools.Contains("transfer_call")).Select(n => new
        {
            node = n.NodeKey,
            field = n.Type == FlowNodeType.Transfer ? "type" : "builtin_tools",
            message = "transfers work on Twilio and Vobiz calls; Exotel has no transfer API, so an Exotel call ends here instead (with an error event)",
        });

    private static object Version(Agent agent, FlowVersion version) => new
    {
        agent_id = agent.Id,
        agent_name = agent.Name,
        id = version.Id,
        version = version.Version,
        note = version.Note,
        created_by = version.CreatedBy,
        created_at = version.CreatedAt,
        nodes = JsonNode.Parse(version.Definition),
    };
}
