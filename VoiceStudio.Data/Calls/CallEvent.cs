namespace VoiceStudio.Data.Calls;

/// <summary>One entry of a call's event trace. <see cref="Type"/> is one of <see cref="CallEventTypes.All"/>.</summary>
public sealed class CallEvent
{
    public long Id { get; set; }
    public Guid CallId { get; set; }
    public Call? Call { get; set; }
    public required string Type { get; set; }
    /// <summary>Microsecond precision (PostgreSQL timestamptz).</summary>
    public DateTimeOffset OccurredAt { get; set; }
    /// <summary>JSON object with the event's details.</summary>
    public string Data { get; set; } = "{}";
}

/// <summary>The event types a call trace may hold; the database enforces the same list.</summary>
public static class CallEventTypes
{
    public const string CallStarted = "call_started";
    public const string CallConnected = "call_connected";
    public const string CallDisconnected = "call_disconnected";
    public const string CallCompleted = "call_completed";
    public const string CallFailed = "call_failed";
    public const string UserSpoke = "user_spoke";
    public const string AgentSpoke = "agent_spoke";
    public const string Interruption = "interruption";
    public const string ToolCalled = "tool_called";
    public const string ToolResult = "tool_result";
    public const string NodeEntered = "node_entered";
    public const string NodeTransition = "node_transition";
    public const string Dtmf = "dtmf";
    public const string UserIdle = "user_idle";
    public const string TurnLatency = "turn_latency";
    public const string GreetingLatency = "greeting_latency";
    public const string RecordingSaved = "recording_saved";
    public const string RecordingDeleted = "recording_deleted";
    public const string Warning = "warning";
    public const string Error = "error";
    public const string Transfer = "transfer";
    public const string LlmResponse = "llm_response";
    public const string LlmError = "llm_error";
    public const string SupervisorListen = "supervisor_listen";
    public const string SupervisorWhisper = "supervisor_whisper";
    public const string SupervisorSay = "supervisor_say";
    public const string SupervisorTakeOver = "supervisor_take_over";
    public const string SupervisorHandBack = "supervisor_hand_back";
    public const string SupervisorEndCall = "supervisor_end_call";

    public static readonly IReadOnlyList<string> All =
    [
        CallStarted, CallConnected, CallDisconnected, CallCompleted, CallFailed,
        UserSpoke, AgentSpoke, Interruption, ToolCalled, ToolResult,
        NodeEntered, NodeTransition, Dtmf, UserIdle, TurnLatency, GreetingLatency,
        RecordingSaved, RecordingDeleted, Warning, Error, Transfer, LlmResponse, LlmError,
        SupervisorListen, SupervisorWhisper, SupervisorSay, SupervisorTakeOver, SupervisorHandBack, SupervisorEndCall,
    ];
}
