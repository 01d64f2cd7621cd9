using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Tools;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Flows;
using FlowNode = VoiceStudio.Data.Agents.FlowNode;

namespace VoiceStudio.Web.Features.Agents;

/// <summary>An agent as a call runs it: the runtime's definition, the engine's options, the flow version it is on.</summary>
public sealed record AgentRuntime(Data.Agents.Agent Row, AgentDefinition Definition, CallSessionOptions Options, Guid? FlowVersionId, string? FlowError);

/// <summary>Loads agents from the database into the plain records the flow runtime and the call engine use.</summary>
public sealed class AgentRuntimeLoader(IDbContextFactory<VoiceStudioDbContext> dbFactory, ILogger<AgentRuntimeLoader> logger)
{
    public async Task<AgentRuntime?> LoadAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var agent = await db.Agents.AsNoTracking().Include(a => a.Nodes).FirstOrDefaultAsync(a => a.Name == name, cancellationToken);
        if (agent is null)
        {
            return null;
        }
        var tools = await db.Tools.AsNoTracking().ToListAsync(cancellationToken);
        var version = await db.FlowVersions.AsNoTracking().Where(v => v.AgentId == agent.Id)
            .OrderByDescending(v => v.Version).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(cancellationToken);
        FlowDefinition? flow = null;
        string? flowError = null;
        if (agent.Nodes.Count > 0)
        {
            try
            {
                flow = FlowJson.Parse(agent.Nodes.Select(ToStored));
            }
            catch (FlowFormatException e)
            {
                flowError = e.Message;
                logger.LogError("Agent {Agent} has a flow that cannot be read: {Problem}", agent.Name, e.Message);
                flow = new FlowDefinition([]);
            }
        }
        var definition = new AgentDefinition
        {
            Id = agent.Id,
            Name = agent.Name,
            Greeting = agent.Greeting,
            SystemPrompt = agent.SystemPrompt,
            Variables = ParseVariables(agent.ContextVariables),
            Tools = tools.ToDictionary(t => t.Id, ToDefinition),
            PreCallToolIds = agent.PreCallToolIds,
            Flow = flow,
        };
        return new AgentRuntime(agent, definition, PipelineOptions(agent.PipelineSettings, flow), version, flowError);
    }

    public static StoredNode ToStored(FlowNode node) => new()
    {
        Key = node.NodeKey,
        Type = EnumNames.Of(node.Type),
        IsInitial = node.IsInitial,
        IsTerminal = node.IsTerminal,
        IsGlobal = node.IsGlobal,
        AllowInterrupt = node.AllowInterrupt,
        Config = node.Config,
        RoleMessages = node.RoleMessages,
        TaskMessages = node.TaskMessages,
        Functions = node.Functions,
        ToolIds = node.ToolIds,
        BuiltinTools = node.BuiltinTools,
        PreActions = node.PreActions,
        PostActions = node.PostActions,
    };

    public static ToolDefinition ToDefinition(Tool tool) => new()
    {
        Id = tool.Id,
        Name = tool.Name,
        Description = tool.Description,
        Parameters = tool.Parameters,
        Url = new Uri(tool.WebhookUrl),
        UseGet = tool.Method == ToolMethod.Get,
        Headers = ParseVariables(tool.Headers),
        Timeout = TimeSpan.FromSeconds(tool.TimeoutSeconds),
    };

    /// <summary>A JSON object of names to values; values that are not strings keep their JSON text.</summary>
    public static Dictionary<string, string> ParseVariables(string json)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json) is JsonObject obj)
            {
                foreach (var (name, value) in obj)
                {
                    result[name] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
                }
            }
        }
        catch (JsonException)
        {
            // stored JSON is checked on save; an unreadable document means no values
        }
        return result;
    }

    /// <summary>The agent's pipeline settings (SPEC §3) as the engine's options; missing fields keep their defaults.</summary>
    public static CallSessionOptions PipelineOptions(string json, FlowDefinition? flow)
    {
        var defaults = new CallSessionOptions();
        JsonObject settings;
        try
        {
            settings = JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            settings = [];
        }
        var vad = settings["vad"] as JsonObject ?? [];
        double Number(JsonObject o, string name, double fallback) => o[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback;
        var idleSeconds = Number(settings, "user_idle_timeout_secs", defaults.UserIdleTimeout.TotalSeconds);
        var hangUpAtOnce = settings["user_idle_action"]?.ToString() == "hangup";
        // A flow's ask nodes count their own no-input re-prompts and then take their fallback edge; the engine
        // only steps in after that.
        var flowPrompts = flow?.Nodes.OfType<AskNode>().Select(a => a.NoInput.Max + 1).DefaultIfEmpty(0).Max() ?? 0;
        return defaults with
        {
            Vad = new VadSettings(
                Number(vad, "confidence", 0.7),
                Number(vad, "start_secs", 0.2),
                Number(vad, "stop_secs", 0.8),
                Number(vad, "min_volume", 0.6)),
            Interruptions = settings["interruptions"] is not JsonValue i || !i.TryGetValue<bool>(out var on) || on,
            MinWordsToInterrupt = (int)Number(settings, "min_words_to_interrupt", 0),
            UserIdleTimeout = TimeSpan.FromSeconds(Math.Clamp(idleSeconds, 1, 600)),
            MaxIdlePrompts = hangUpAtOnce ? 0 : Math.Max((int)Number(settings, "user_idle_max_prompts", defaults.MaxIdlePrompts), flowPrompts),
        };
    }
}
