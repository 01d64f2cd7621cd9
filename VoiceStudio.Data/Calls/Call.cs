using VoiceStudio.Data.Agents;

namespace VoiceStudio.Data.Calls;

public sealed class Call
{
    public Guid Id { get; set; }
    /// <summary>Null once the agent is deleted; <see cref="AgentName"/> keeps what it was called.</summary>
    public Guid? AgentId { get; set; }
    public Agent? Agent { get; set; }
    public required string AgentName { get; set; }
    public Guid? FlowVersionId { get; set; }
    public FlowVersion? FlowVersion { get; set; }

    public TelephonyProvider Provider { get; set; }
    public string? ProviderCallId { get; set; }
    public CallDirection Direction { get; set; }
    public string? FromNumber { get; set; }
    public string? ToNumber { get; set; }
    public CallStatus Status { get; set; } = CallStatus.Ringing;

    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public double? DurationSeconds { get; set; }
    public string? EndReason { get; set; }

    /// <summary>JSON array of {speaker, text, at}.</summary>
    public string Transcript { get; set; } = "[]";
    public string ContextVariables { get; set; } = "{}";
    /// <summary>JSON object: stt_seconds, tts_characters, llm_prompt_tokens, llm_completion_tokens…</summary>
    public string Usage { get; set; } = "{}";
    public string? RecordingPath { get; set; }
    /// <summary>The instance running the call (see the instance heartbeat).</summary>
    public string? OwnerInstance { get; set; }
    /// <summary>Made from the designer's test console.</summary>
    public bool IsTest { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public List<CallEvent> Events { get; set; } = [];
}

public enum CallStatus
{
    Ringing,
    InProgress,
    Completed,
    Failed,
    NoAnswer,
    Busy,
}

public enum CallDirection
{
    Inbound,
    Outbound,
}

public enum TelephonyProvider
{
    Twilio,
    Exotel,
    Vobiz,
    Browser,
}
