using Microsoft.Extensions.Configuration;

namespace VoiceStudio.Web.Configuration;

/// <summary>
/// The settings of SPEC §10, bound from environment variables (or appsettings.json keys of the same name).
/// Validated at start-up by <see cref="VoiceStudioSettingsValidator"/> and <see cref="StartupChecks"/>.
/// </summary>
public sealed class VoiceStudioSettings
{
    [ConfigurationKeyName("DATABASE_URL")]
    public string DatabaseUrl { get; set; } = "";

    [ConfigurationKeyName("REDIS_URL")]
    public string RedisUrl { get; set; } = "";

    /// <summary>Prefix of every Redis key and channel, so several deployments can share one Redis.</summary>
    [ConfigurationKeyName("REDIS_KEY_PREFIX")]
    public string RedisKeyPrefix { get; set; } = "vs:";

    [ConfigurationKeyName("RECORDINGS_DIR")]
    public string RecordingsDir { get; set; } = "";

    [ConfigurationKeyName("RECORDING_RETENTION_DAYS")]
    public int RecordingRetentionDays { get; set; } = 30;

    /// <summary>Public HTTPS base URL that telephony providers reach (webhooks and media sockets).</summary>
    [ConfigurationKeyName("PUBLIC_BASE_URL")]
    public string? PublicBaseUrl { get; set; }

    /// <summary>Origin(s) allowed by CORS for the API, comma-separated.</summary>
    [ConfigurationKeyName("DASHBOARD_URL")]
    public string? DashboardUrl { get; set; }

    [ConfigurationKeyName("LOG_LEVEL")]
    public string LogLevel { get; set; } = "Information";

    /// <summary>"text" (default) or "json" (compact JSON, one event per line).</summary>
    [ConfigurationKeyName("LOG_FORMAT")]
    public string LogFormat { get; set; } = "text";

    [ConfigurationKeyName("TELEPHONY_PROVIDER")]
    public string TelephonyProvider { get; set; } = "twilio";

    /// <summary>This instance's id; must be stable across restarts and unique among instances. Defaults to the host name.</summary>
    [ConfigurationKeyName("INSTANCE_ID")]
    public string? InstanceId { get; set; }

    [ConfigurationKeyName("VAD_MODEL_PATH")]
    public string? VadModelPath { get; set; }

    /// <summary>Lets HTTP tools reach link-local and cloud-metadata addresses (refused by default).</summary>
    [ConfigurationKeyName("TOOLS_ALLOW_LINK_LOCAL")]
    public bool ToolsAllowLinkLocal { get; set; }

    /// <summary>Spare PocketSphinx decoders kept loaded so new calls do not wait for one (~0.5 s of CPU, ~100 MB each); also the burst of simultaneous new calls served without that wait.</summary>
    [ConfigurationKeyName("STT_WARM_DECODERS")]
    public int SttWarmDecoders { get; set; } = 2;

    /// <summary>Seconds after which an instance that stopped refreshing its heartbeat counts as dead.</summary>
    [ConfigurationKeyName("INSTANCE_HEARTBEAT_TTL_SECONDS")]
    public int InstanceHeartbeatTtlSeconds { get; set; } = 15;

    /// <summary>Sign-in attempts one address may make per minute (dashboard form and <c>/api/auth/login</c> together).</summary>
    /// <summary>
    /// Verify provider webhook signatures and media-stream tokens. Turn off only for local development (the app
    /// warns at start-up): anyone who can reach the app could then open calls.
    /// </summary>
    [ConfigurationKeyName("TELEPHONY_VERIFY_REQUESTS")]
    public bool TelephonyVerifyRequests { get; set; } = true;

    [ConfigurationKeyName("LOGIN_ATTEMPTS_PER_MINUTE")]
    public int LoginAttemptsPerMinute { get; set; } = 10;
}
