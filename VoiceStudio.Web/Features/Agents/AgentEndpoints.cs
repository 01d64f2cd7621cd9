using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Calls;
using VoiceStudio.Data.Tools;
using VoiceStudio.Media.Flows;
using VoiceStudio.Web.Features.Auth;
using VoiceStudio.Web.Features.Flows;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Agents;

/// <summary>
/// Agents and tools over REST (SPEC §8): list, get, create, patch (only the fields given), delete; agent stats;
/// <c>POST /api/tools/{id}/test</c> runs a tool once. Reading is for any signed-in user, changing for admins and
/// designers. Every bad field is named in a 400.
/// </summary>
public static partial class AgentEndpoints
{
    private static readonly string[] SttProviders = ["pocketsphinx", "deepgram", "openai"];
    private static readonly string[] TtsProviders = ["flite", "espeak", "openai", "elevenlabs", "cartesia"];

    public static IReadOnlyList<string> SttProviderNames => SttProviders;
    public static IReadOnlyList<string> TtsProviderNames => TtsProviders;
    private static readonly string[] WebhookEvents = ["call_started", "call_ended"];

    public static IEndpointRouteBuilder MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        var agents = app.MapGroup("/api/agents").RequireAuthorization().WithTags("agents");
        agents.MapGet("/", async (IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var rows = await db.Agents.AsNoTracking().OrderBy(a => a.Name).Select(a => new
            {
                a.Id,
                a.Name,
                a.Description,
                a.LlmProvider,
                a.LlmModel,
                a.UpdatedAt,
                Nodes = a.Nodes.Count,
                Calls = db.Calls.Count(c => c.AgentId == a.Id),
            }).ToListAsync(cancellationToken);
            return Results.Json(rows.Select(a => new
            {
                id = a.Id,
                name = a.Name,
                description = a.Description,
                freeform = a.Nodes == 0,
                node_count = a.Nodes,
                call_count = a.Calls,
                llm_provider = a.LlmProvider,
                llm_model = a.LlmModel,
                updated_at = a.UpdatedAt,
            }));
        }).WithSummary("Agents with their node and call counts");
        agents.MapGet("/{agent}", async (string agent, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            return await FlowStore.FindAgentAsync(db, agent, cancellationToken) is { } row ? Results.Json(Json(row)) : Api.NotFound($"agent '{agent}' does not exist");
        }).WithSummary("One agent's settings");
        agents.MapGet("/{agent}/stats", async (string agent, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
            {
                return Api.NotFound($"agent '{agent}' does not exist");
            }
            var calls = db.Calls.AsNoTracking().Where(c => c.AgentId == row.Id && !c.IsTest);
            var total = await calls.CountAsync(cancellationToken);
            var completed = await calls.CountAsync(c => c.Status == CallStatus.Completed, cancellationToken);
            return Results.Json(new
            {
                agent = row.Name,
                calls = total,
                completed,
                failed = await calls.CountAsync(c => c.Status == CallStatus.Failed, cancellationToken),
                success_rate = total == 0 ? (double?)null : Math.Round(completed / (double)total, 3),
                average_duration_s = await calls.Where(c => c.DurationSeconds != null).AverageAsync(c => c.DurationSeconds, cancellationToken) is { } average ? Math.Round(average, 1) : (double?)null,
                last_call_at = await calls.MaxAsync(c => (DateTimeOffset?)c.CreatedAt, cancellationToken),
                test_calls = await db.Calls.CountAsync(c => c.AgentId == row.Id && c.IsTest, cancellationToken),
            });
        }).WithSummary("Call counts, success rate and average duration of an agent's real calls");

        var change = app.MapGroup("/api/agents").RequireAuthorization(AuthSetup.Designers).WithTags("agents");
        change.MapPost("/", (HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
            SaveAgentAsync(null, request, dbFactory, clock, cancellationToken)).WithSummary("Create an agent (freeform until its flow is saved)");
        change.MapPatch("/{agent}", (string agent, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
            SaveAgentAsync(agent, request, dbFactory, clock, cancellationToken)).WithSummary("Change an agent (only the fields given)");
        change.MapDelete("/{agent}", async (string agent, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await FlowStore.FindAgentAsync(db, agent, cancellationToken) is not { } row)
            {
                return Api.NotFound($"agent '{agent}' does not exist");
            }
            db.Agents.Remove(row); // its nodes and versions go with it; its calls keep the agent's name
            await db.SaveChangesAsync(cancellationToken);
            return Results.NoContent();
        }).WithSummary("Delete an agent (its calls stay, with its name)");

        var tools = app.MapGroup("/api/tools").RequireAuthorization().WithTags("tools");
        tools.MapGet("/", async (IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            return Results.Json((await db.Tools.AsNoTracking().OrderBy(t => t.Name).ToListAsync(cancellationToken)).Select(ToolJson));
        }).WithSummary("HTTP tools");
        tools.MapGet("/{id:guid}", async (Guid id, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            return await db.Tools.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is { } tool ? Results.Json(ToolJson(tool)) : Api.NotFound($"tool {id} does not exist");
        }).WithSummary("One tool");
        var changeTools = app.MapGroup("/api/tools").RequireAuthorization(AuthSetup.Designers).WithTags("tools");
        changeTools.MapPost("/", (HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
            SaveToolAsync(null, request, dbFactory, clock, cancellationToken)).WithSummary("Create a tool");
        changeTools.MapPatch("/{id:guid}", (Guid id, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
            SaveToolAsync(id, request, dbFactory, clock, cancellationToken)).WithSummary("Change a tool (only the fields given)");
        changeTools.MapDelete("/{id:guid}", async (Guid id, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await db.Tools.FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is not { } tool)
            {
                return Api.NotFound($"tool {id} does not exist");
            }
            var usedBy = (await ToolUsersAsync(db, cancellationToken)).GetValueOrDefault(id, []);
            if (usedBy.Count > 0)
            {
                return Api.Problem(StatusCodes.Status409Conflict, $"tool '{tool.Name}' is in use by {string.Join(", ", usedBy)}; remove it there first");
            }
            db.Tools.Remove(tool);
            await db.SaveChangesAsync(cancellationToken);
            return Results.NoContent();
        }).WithSummary("Delete a tool no agent uses");
        changeTools.MapPost("/{id:guid}/test", async (Guid id, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, IToolInvoker invoker,
            System.Security.Claims.ClaimsPrincipal user, CancellationToken cancellationToken) =>
        {
            JsonObject arguments = [];
            if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
            {
                var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
                if (body is null)
                {
                    return Api.BadRequest(error!);
                }
                if (body["arguments"] is JsonObject given)
                {
                    arguments = (JsonObject)given.DeepClone();
                }
                else if (body["arguments"] is not null)
                {
                    return Api.Invalid([new FlowProblem(null, "arguments", "must be an object")]);
                }
            }
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (await db.Tools.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken) is not { } tool)
            {
                return Api.NotFound($"tool {id} does not exist");
            }
            var result = await invoker.InvokeAsync(AgentRuntimeLoader.ToDefinition(tool), arguments,
                new ToolCallContext("test", $"test by {user.Identity?.Name}", null, "test", new Dictionary<string, string>()), cancellationToken);
            return Results.Json(new
            {
                ok = result.Ok,
                status = result.Status,
                latency_ms = Math.Round(result.LatencyMs, 1),
                body = result.Json ?? (JsonNode?)(result.Text is null ? null : JsonValue.Create(result.Text)),
                error = result.Error,
            });
        }).WithSummary("Run a tool once with the given arguments: status, body and latency");
        return app;
    }

    /// <summary>
    /// Who uses each tool: agents (as a tool or a pre-call tool) by name, flow nodes as <c>agent.node</c>. One read
    /// of agents and nodes for all tools (the tools page, and the check before a delete).
    /// </summary>
    public static async Task<Dictionary<Guid, List<string>>> ToolUsersAsync(VoiceStudioDbContext db, CancellationToken cancellationToken)
    {
        var users = new Dictionary<Guid, List<string>>();
        void Add(Guid tool, string who)
        {
            if (!users.TryGetValue(tool, out var list))
            {
                users[tool] = list = [];
            }
            if (!list.Contains(who))
            {
                list.Add(who);
            }
        }
        foreach (var agent in await db.Agents.AsNoTracking().Select(a => new { a.Name, a.ToolIds, a.PreCallToolIds }).ToListAsync(cancellationToken))
        {
            foreach (var tool in agent.ToolIds.Concat(agent.PreCallToolIds))
            {
                Add(tool, agent.Name);
            }
        }
        foreach (var node in await db.FlowNodes.AsNoTracking().Include(n => n.Agent).ToListAsync(cancellationToken))
        {
            foreach (var tool in FlowDocument.ToolIdsOf(node))
            {
                Add(tool, $"{node.Agent!.Name}.{node.NodeKey}");
            }
        }
        return users;
    }

    public static object Json(Agent a)
    {
        var settings = JsonNode.Parse(a.ProviderSettings) ?? new JsonObject();
        return new
        {
            id = a.Id,
            name = a.Name,
            description = a.Description,
            system_prompt = a.SystemPrompt,
            greeting = a.Greeting,
            stt_provider = a.SttProvider,
            stt_model = a.SttModel,
            stt_language = a.SttLanguage,
            llm_provider = a.LlmProvider,
            llm_model = a.LlmModel,
            llm_temperature = a.LlmTemperature,
            llm_max_tokens = a.LlmMaxTokens,
            tts_provider = a.TtsProvider,
            tts_model = a.TtsModel,
            tts_voice = a.TtsVoice,
            tts_language = a.TtsLanguage,
            provider_settings = Masked(settings),
            pipeline_settings = JsonNode.Parse(a.PipelineSettings),
            context_variables = JsonNode.Parse(a.ContextVariables),
            tool_ids = a.ToolIds,
            pre_call_tool_ids = a.PreCallToolIds,
            webhook_url = a.WebhookUrl,
            webhook_events = a.WebhookEvents,
            created_at = a.CreatedAt,
            updated_at = a.UpdatedAt,
        };
    }

    /// <summary>Provider settings as the API shows them: secret values replaced by their last four characters.</summary>
    public static JsonNode Masked(JsonNode node)
    {
        if (node is JsonObject o)
        {
            foreach (var (name, value) in o.ToList())
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var s) && SecretName().IsMatch(name) && !name.EndsWith("_env", StringComparison.Ordinal))
                {
                    o[name] = Secrets.Mask(s);
                }
                else if (value is not null)
                {
                    Masked(value);
                }
            }
        }
        return node;
    }

    public static void KeepMasked(JsonNode given, JsonNode? stored)
    {
        if (given is not JsonObject o || stored is not JsonObject old)
        {
            return;
        }
        foreach (var (name, value) in o.ToList())
        {
            if (value is JsonValue v && v.TryGetValue<string>(out var s) && Secrets.IsMasked(s) && old[name] is JsonValue kept)
            {
                o[name] = kept.DeepClone();
            }
            else if (value is not null)
            {
                KeepMasked(value, old[name]);
            }
        }
    }

    private static object ToolJson(Tool t) => new
    {
        id = t.Id,
        name = t.Name,
        description = t.Description,
        parameters = JsonNode.Parse(t.Parameters),
        webhook_url = t.WebhookUrl,
        method = t.Method == ToolMethod.Get ? "GET" : "POST",
        headers = JsonNode.Parse(t.Headers),
        timeout_seconds = t.TimeoutSeconds,
        created_at = t.CreatedAt,
        updated_at = t.UpdatedAt,
    };

    private static async Task<IResult> SaveAgentAsync(string? key, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
        if (body is null)
        {
            return Api.BadRequest(error!);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var result = await SaveAgentAsync(db, key, body, clock.GetUtcNow(), cancellationToken);
        return result switch
        {
            { Missing: true } => Api.NotFound($"agent '{key}' does not exist"),
            { Problems.Count: > 0 } => Api.Invalid([.. result.Problems]),
            _ => Results.Json(Json(result.Saved!), statusCode: key is null ? StatusCodes.Status201Created : StatusCodes.Status200OK),
        };
    }

    /// <summary>
    /// Creates (<paramref name="key"/> null) or changes an agent from the fields in <paramref name="body"/>, as the API and the
    /// editor page both do: nothing is stored unless every field is valid.
    /// </summary>
    public static async Task<SaveResult<Agent>> SaveAgentAsync(VoiceStudioDbContext db, string? key, JsonObject body, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Agent? agent = null;
        if (key is not null && (agent = await FlowStore.FindAgentAsync(db, key, cancellationToken)) is null)
        {
            return new SaveResult<Agent>(null, [], Missing: true);
        }
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        agent ??= new Agent { Id = Guid.CreateVersion7(), Name = "", CreatedAt = now };
        if (key is null && body["name"] is null)
        {
            Problem("name", "is required");
        }
        var knownTools = await db.Tools.Select(t => t.Id).ToListAsync(cancellationToken);
        foreach (var (field, value) in body)
        {
            string? Text() => value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            string? OneOf(string[] allowed)
            {
                var text = Text();
                if (text is null || !allowed.Contains(text))
                {
                    Problem(field, $"must be one of {string.Join(", ", allowed)}");
                    return null;
                }
                return text;
            }
            string? Json<TJson>() where TJson : JsonNode
            {
                if (value is TJson node)
                {
                    return node.ToJsonString();
                }
                Problem(field, typeof(TJson) == typeof(JsonObject) ? "must be a JSON object" : "must be a JSON array");
                return null;
            }
            List<Guid>? Tools()
            {
                if (value is not JsonArray array)
                {
                    Problem(field, "must be an array of tool ids");
                    return null;
                }
                var ids = new List<Guid>();
                foreach (var (item, i) in array.Select((item, i) => (item, i)))
                {
                    if (item is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, out var id) && knownTools.Contains(id))
                    {
                        ids.Add(id);
                    }
                    else
                    {
                        Problem($"{field}[{i}]", $"{item?.ToJsonString()} is not an existing tool's id");
                    }
                }
                return ids;
            }
            switch (field)
            {
                case "name":
                    var name = Text()?.Trim() ?? "";
                    if (!AgentName().IsMatch(name))
                    {
                        Problem(field, "use 1 to 64 lowercase letters, digits, '_' or '-', starting with a letter or digit (it appears in URLs)");
                    }
                    else if (await db.Agents.AnyAsync(a => a.Name == name && a.Id != agent.Id, cancellationToken))
                    {
                        Problem(field, $"an agent named '{name}' exists");
                    }
                    else
                    {
                        agent.Name = name;
                    }
                    break;
                case "description":
                    agent.Description = Text();
                    break;
                case "system_prompt":
                    agent.SystemPrompt = Text() ?? "";
                    if (Templates.Check(agent.SystemPrompt) is { } promptError)
                    {
                        Problem(field, $"template does not parse: {promptError}");
                    }
                    break;
                case "greeting":
                    agent.Greeting = Text();
                    if (agent.Greeting is { } greeting && Templates.Check(greeting) is { } greetingError)
                    {
                        Problem(field, $"template does not parse: {greetingError}");
                    }
                    break;
                case "stt_provider":
                    agent.SttProvider = OneOf(SttProviders) ?? agent.SttProvider;
                    break;
                case "tts_provider":
                    agent.TtsProvider = OneOf(TtsProviders) ?? agent.TtsProvider;
                    break;
                case "llm_provider":
                    if (value is null || Text() is "")
                    {
                        agent.LlmProvider = null;
                    }
                    else
                    {
                        agent.LlmProvider = OneOf([.. AgentRuntimeLoader.LlmProviders.Keys]) ?? agent.LlmProvider;
                    }
                    break;
                case "stt_model":
                    agent.SttModel = Text();
                    break;
                case "stt_language":
                    agent.SttLanguage = Text() ?? SpeechDefaults.Language;
                    break;
                case "llm_model":
                    agent.LlmModel = Text();
                    break;
                case "tts_model":
                    agent.TtsModel = Text();
                    break;
                case "tts_voice":
                    agent.TtsVoice = Text();
                    break;
                case "tts_language":
                    agent.TtsLanguage = Text() ?? SpeechDefaults.Language;
                    break;
                case "llm_temperature":
                    if (value is JsonValue t && t.TryGetValue<double>(out var temperature) && temperature is >= 0 and <= 2)
                    {
                        agent.LlmTemperature = temperature;
                    }
                    else
                    {
                        Problem(field, "must be a number from 0 to 2");
                    }
                    break;
                case "llm_max_tokens":
                    if (value is JsonValue m && m.TryGetValue<int>(out var tokens) && tokens is > 0 and <= 1_000_000)
                    {
                        agent.LlmMaxTokens = tokens;
                    }
                    else
                    {
                        Problem(field, "must be a whole number from 1 to 1000000");
                    }
                    break;
                case "provider_settings":
                    if (Json<JsonObject>() is { } settings)
                    {
                        // A masked secret sent back as read ("••••1234") keeps the stored value.
                        var given = JsonNode.Parse(settings)!;
                        KeepMasked(given, JsonNode.Parse(agent.ProviderSettings));
                        agent.ProviderSettings = given.ToJsonString();
                    }
                    break;
                case "pipeline_settings":
                    agent.PipelineSettings = Json<JsonObject>() ?? agent.PipelineSettings;
                    break;
                case "context_variables":
                    agent.ContextVariables = Json<JsonObject>() ?? agent.ContextVariables;
                    break;
                case "tool_ids":
                    agent.ToolIds = Tools() ?? agent.ToolIds;
                    break;
                case "pre_call_tool_ids":
                    agent.PreCallToolIds = Tools() ?? agent.PreCallToolIds;
                    break;
                case "webhook_url":
                    var url = Text();
                    if (url is { Length: > 0 } && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
                    {
                        Problem(field, $"'{url}' is not an http or https URL");
                    }
                    agent.WebhookUrl = string.IsNullOrEmpty(url) ? null : url;
                    break;
                case "webhook_events":
                    if (value is JsonArray events && events.All(e => e is JsonValue ev && ev.TryGetValue<string>(out var name) && WebhookEvents.Contains(name)))
                    {
                        agent.WebhookEvents = [.. events.Select(e => e!.GetValue<string>()).Distinct()];
                    }
                    else
                    {
                        Problem(field, $"must be an array of {string.Join(", ", WebhookEvents)}");
                    }
                    break;
                default:
                    Problem(field, "is not an agent field");
                    break;
            }
        }
        if (problems.Count > 0)
        {
            return new SaveResult<Agent>(null, problems, Missing: false);
        }
        agent.UpdatedAt = now;
        if (key is null)
        {
            db.Agents.Add(agent);
        }
        await db.SaveChangesAsync(cancellationToken);
        return new SaveResult<Agent>(agent, [], Missing: false);
    }

    private static async Task<IResult> SaveToolAsync(Guid? id, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
        if (body is null)
        {
            return Api.BadRequest(error!);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var result = await SaveToolAsync(db, id, body, clock.GetUtcNow(), cancellationToken);
        return result switch
        {
            { Missing: true } => Api.NotFound($"tool {id} does not exist"),
            { Problems.Count: > 0 } => Api.Invalid([.. result.Problems]),
            _ => Results.Json(ToolJson(result.Saved!), statusCode: id is null ? StatusCodes.Status201Created : StatusCodes.Status200OK),
        };
    }

    /// <summary>Creates (<paramref name="id"/> null) or changes a tool from the fields in <paramref name="body"/>; nothing is stored unless every field is valid.</summary>
    public static async Task<SaveResult<Tool>> SaveToolAsync(VoiceStudioDbContext db, Guid? id, JsonObject body, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Tool? tool = null;
        if (id is { } existing && (tool = await db.Tools.FirstOrDefaultAsync(t => t.Id == existing, cancellationToken)) is null)
        {
            return new SaveResult<Tool>(null, [], Missing: true);
        }
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        tool ??= new Tool { Id = Guid.CreateVersion7(), Name = "", WebhookUrl = "", CreatedAt = now };
        foreach (var required in id is null ? new[] { "name", "webhook_url" } : [])
        {
            if (body[required] is null)
            {
                Problem(required, "is required");
            }
        }
        foreach (var (field, value) in body)
        {
            var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s.Trim() : null;
            switch (field)
            {
                case "name":
                    if (text is null || !ToolName().IsMatch(text))
                    {
                        Problem(field, "use snake_case: a lowercase letter, then letters, digits or '_', at most 64 (the model sees this name)");
                    }
                    else if (await db.Tools.AnyAsync(t => t.Name == text && t.Id != tool.Id, cancellationToken))
                    {
                        Problem(field, $"a tool named '{text}' exists");
                    }
                    else
                    {
                        tool.Name = text;
                    }
                    break;
                case "description":
                    tool.Description = text ?? "";
                    break;
                case "parameters":
                    if (value is JsonObject schema && (schema["type"] is null || schema["type"]!.ToString() == "object"))
                    {
                        tool.Parameters = schema.ToJsonString();
                    }
                    else
                    {
                        Problem(field, "must be a JSON Schema object with \"type\": \"object\" (OpenAI function parameters)");
                    }
                    break;
                case "webhook_url":
                    if (text is null || !Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    {
                        Problem(field, $"'{text}' is not an http or https URL");
                    }
                    else
                    {
                        tool.WebhookUrl = text;
                    }
                    break;
                case "method":
                    switch (text?.ToUpperInvariant())
                    {
                        case "POST":
                            tool.Method = ToolMethod.Post;
                            break;
                        case "GET":
                            tool.Method = ToolMethod.Get;
                            break;
                        default:
                            Problem(field, "must be POST or GET");
                            break;
                    }
                    break;
                case "headers":
                    if (value is JsonObject headers && headers.All(h => h.Value is JsonValue hv && hv.TryGetValue<string>(out _)))
                    {
                        tool.Headers = headers.ToJsonString();
                    }
                    else
                    {
                        Problem(field, "must be an object of header names to string values");
                    }
                    break;
                case "timeout_seconds":
                    if (value is JsonValue tv && tv.TryGetValue<double>(out var seconds) && seconds is > 0 and <= 120)
                    {
                        tool.TimeoutSeconds = seconds;
                    }
                    else
                    {
                        Problem(field, "must be a number of seconds above 0 and at most 120");
                    }
                    break;
                default:
                    Problem(field, "is not a tool field (name, description, parameters, webhook_url, method, headers, timeout_seconds)");
                    break;
            }
        }
        if (problems.Count > 0)
        {
            return new SaveResult<Tool>(null, problems, Missing: false);
        }
        tool.UpdatedAt = now;
        if (id is null)
        {
            db.Tools.Add(tool);
        }
        await db.SaveChangesAsync(cancellationToken);
        return new SaveResult<Tool>(tool, [], Missing: false);
    }

    /// <summary>What a save did: the stored row, or the problems that kept it from being stored, or that the row does not exist.</summary>
    public sealed record SaveResult<T>(T? Saved, IReadOnlyList<FlowProblem> Problems, bool Missing) where T : class;

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex AgentName();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex ToolName();

    [GeneratedRegex("(key|token|secret|password)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
