using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Tools;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Flows;
using VoiceStudio.Media.Llm;
using FlowNode = VoiceStudio.Data.Agents.FlowNode;

namespace VoiceStudio.Web.Features.Agents;

/// <summary>An agent as a call runs it: the runtime's definition, the engine's options, the flow version it is on.</summary>
public sealed record AgentRuntime(Data.Agents.Agent Row, AgentDefinition Definition, CallSessionOptions Options, Guid? FlowVersionId, string? FlowError);

/// <summary>Loads agents from the database into the plain records the flow runtime and the call engine use.</summary>
public sealed class AgentRuntimeLoader(IDbContextFactory<VoiceStudioDbContext> dbFactory, IConfiguration configuration, ILogger<AgentRuntimeLoader> logger)
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
            ToolIds = agent.ToolIds,
            Flow = flow,
            Llm = LlmSettingsOf(agent, name => configuration[name], out var llmError),
        };
        if (llmError is not null)
        {
            logger.LogWarning("Agent {Agent} has no usable language model: {Problem}", agent.Name, llmError);
        }
        return new AgentRuntime(agent, definition, PipelineOptions(agent.PipelineSettings, flow), version, flowError);
    }

    /// <summary>Where each named OpenAI-compatible provider lives when the agent gives no base URL.</summary>
    public static readonly IReadOnlyDictionary<string, Uri?> LlmProviders = new Dictionary<string, Uri?>(StringComparer.Ordinal)
    {
        ["openai"] = LlmSettings.OpenAiBaseUrl,
        ["groq"] = new("https://api.groq.com/openai/v1/"),
        ["together"] = new("https://api.together.xyz/v1/"),
        ["ollama"] = new("http://127.0.0.1:11434/v1/"),
        ["azure_openai"] = null,
        ["vllm"] = null,
        ["llamacpp"] = null,
        ["openai_compatible"] = null,
    };

    /// <summary>
    /// The agent's model settings: <c>llm_provider</c> and <c>llm_model</c> on the agent, the rest under
    /// <c>provider_settings.llm</c> (base_url, api_key or api_key_env, first_token_timeout_secs, reply_timeout_secs,
    /// fallback_line). Without an api_key the key comes from the variable api_key_env names, or PROVIDER_API_KEY.
    /// Null (with the reason) when the agent has no model or its settings cannot work.
    /// </summary>
    public static LlmSettings? LlmSettingsOf(Data.Agents.Agent agent, Func<string, string?> environment, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(agent.LlmProvider))
        {
            return null;
        }
        if (!LlmProviders.TryGetValue(agent.LlmProvider, out var defaultUrl))
        {
            problem = $"llm_provider '{agent.LlmProvider}' is not one of {string.Join(", ", LlmProviders.Keys)}";
            return null;
        }
        if (string.IsNullOrWhiteSpace(agent.LlmModel))
        {
            problem = "llm_model is empty";
            return null;
        }
        JsonObject llm;
        try
        {
            llm = JsonNode.Parse(string.IsNullOrWhiteSpace(agent.ProviderSettings) ? "{}" : agent.ProviderSettings)?["llm"] as JsonObject ?? [];
        }
        catch (JsonException)
        {
            llm = [];
        }
        string? Text(string name) => llm[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        double? Seconds(string name) => llm[name] is JsonValue v && v.TryGetValue<double>(out var d) && d > 0 ? Math.Min(d, 300) : null;
        var baseUrl = defaultUrl;
        if (Text("base_url") is { } configured)
        {
            if (!Uri.TryCreate(configured.EndsWith('/') ? configured : configured + "/", UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                problem = $"provider_settings.llm.base_url '{configured}' is not an http or https URL";
                return null;
            }
            baseUrl = parsed;
        }
        if (baseUrl is null)
        {
            problem = $"llm_provider '{agent.LlmProvider}' needs provider_settings.llm.base_url";
            return null;
        }
        var key = Text("api_key") ?? environment(Text("api_key_env") ?? $"{agent.LlmProvider.ToUpperInvariant()}_API_KEY") ?? "";
        var defaults = new LlmSettings { Model = agent.LlmModel };
        return defaults with
        {
            BaseUrl = baseUrl,
            ApiKey = key,
            Temperature = agent.LlmTemperature,
            MaxTokens = agent.LlmMaxTokens,
            FirstTokenTimeout = Seconds("first_token_timeout_secs") is { } first ? TimeSpan.FromSeconds(first) : defaults.FirstTokenTimeout,
            ReplyTimeout = Seconds("reply_timeout_secs") is { } whole ? TimeSpan.FromSeconds(whole) : defaults.ReplyTimeout,
            FallbackLine = Text("fallback_line") ?? defaults.FallbackLine,
        };
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
