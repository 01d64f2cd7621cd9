using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Data.Telephony;

/// <summary>Settings shared by all providers (one row, id 1).</summary>
public sealed class TelephonySettings
{
    public const int SingletonId = 1;
    public int Id { get; set; } = SingletonId;
    /// <summary>Public HTTPS base URL the providers reach us at.</summary>
    public string? PublicBaseUrl { get; set; }
    public TelephonyProvider DefaultProvider { get; set; } = TelephonyProvider.Twilio;
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One telephony provider's credentials and limits. Secrets are stored encrypted.</summary>
public sealed class TelephonyProviderSettings
{
    public const int DefaultMaxConcurrent = 10;

    public TelephonyProvider Provider { get; set; }
    public bool Enabled { get; set; }
    /// <summary>Twilio account SID, Exotel SID, Vobiz auth id.</summary>
    public string? AccountId { get; set; }
    /// <summary>Exotel API key.</summary>
    public string? ApiKey { get; set; }
    /// <summary>Auth token (Twilio, Vobiz) or API token (Exotel), encrypted with ASP.NET Data Protection.</summary>
    public string? AuthTokenProtected { get; set; }
    public string? PhoneNumber { get; set; }
    /// <summary>A secret the provider sends back on its webhooks and sockets (Exotel's URL secret), encrypted.</summary>
    public string? WebhookSecretProtected { get; set; }
    /// <summary>Exotel: the app (flow) whose Voicebot applet connects outbound calls to us.</summary>
    public string? AppId { get; set; }
    /// <summary>Exotel API base (region), overrides for tests.</summary>
    public string? ApiBaseUrl { get; set; }
    public int MaxConcurrent { get; set; } = DefaultMaxConcurrent;
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A phone number and the agents that answer and dial from it.</summary>
public sealed class PhoneNumber
{
    public Guid Id { get; set; }
    /// <summary>E.164.</summary>
    public required string Number { get; set; }
    public TelephonyProvider Provider { get; set; }
    public string? Label { get; set; }
    public Guid? InboundAgentId { get; set; }
    public Agent? InboundAgent { get; set; }
    public Guid? OutboundAgentId { get; set; }
    public Agent? OutboundAgent { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
