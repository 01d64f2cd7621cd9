namespace VoiceStudio.Data.Agents;

/// <summary>A phone agent: what it says, how it hears and speaks, and (optionally) its flow.</summary>
public sealed class Agent
{
    public Guid Id { get; set; }

    /// <summary>Unique, URL-safe name (used in webhook and socket URLs).</summary>
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string SystemPrompt { get; set; } = "";
    /// <summary>Spoken first; may use {{variable}} templates.</summary>
    public string? Greeting { get; set; }

    public string SttProvider { get; set; } = SpeechDefaults.SttProvider;
    public string? SttModel { get; set; }
    public string SttLanguage { get; set; } = SpeechDefaults.Language;

    /// <summary>Null for agents that run deterministic flows only.</summary>
    public string? LlmProvider { get; set; }
    public string? LlmModel { get; set; }
    public double LlmTemperature { get; set; } = 0.7;
    public int LlmMaxTokens { get; set; } = 512;

    public string TtsProvider { get; set; } = SpeechDefaults.TtsProvider;
    public string? TtsModel { get; set; }
    public string? TtsVoice { get; set; } = SpeechDefaults.TtsVoice;
    public string TtsLanguage { get; set; } = SpeechDefaults.Language;

    /// <summary>JSON object: per-provider options (base URLs, keys by reference, voices).</summary>
    public string ProviderSettings { get; set; } = "{}";
    /// <summary>JSON object: VAD, turn detection, interruptions, idle handling. See <see cref="PipelineSettingsJson"/>.</summary>
    public string PipelineSettings { get; set; } = PipelineSettingsJson.Default;

    public List<Guid> ToolIds { get; set; } = [];
    public List<Guid> PreCallToolIds { get; set; } = [];
    /// <summary>JSON object: variable name → default value.</summary>
    public string ContextVariables { get; set; } = "{}";

    public string? WebhookUrl { get; set; }
    public List<string> WebhookEvents { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public List<FlowNode> Nodes { get; set; } = [];
    public List<FlowVersion> FlowVersions { get; set; } = [];
}

public static class SpeechDefaults
{
    public const string SttProvider = "pocketsphinx";
    public const string TtsProvider = "flite";
    public const string TtsVoice = "cmu_us_slt";
    public const string Language = "en-US";
}

/// <summary>The pipeline settings document and its defaults (SPEC §3, issue 3).</summary>
public static class PipelineSettingsJson
{
    public const string Default = """
        {"vad":{"confidence":0.7,"start_secs":0.2,"stop_secs":0.8,"min_volume":0.6},"turn_detection":"vad","interruptions":true,"min_words_to_interrupt":0,"user_idle_timeout_secs":10,"user_idle_action":"reprompt"}
        """;
}
