using Microsoft.Extensions.Logging;

namespace VoiceStudio.Media.Diagnostics;

/// <summary>
/// The named log events of SPEC §4, in one place. Each is a structured message template whose first word is the
/// event name (and the EventId's name), with CallId, Agent, Provider, Node as properties. Source-generated, so a
/// disabled level costs nothing and an enabled one does not box on the hot path.
/// </summary>
public static partial class CallLog
{
    public const string CallStarted = "call_started";
    public const string CallConnected = "call_connected";
    public const string CallDisconnected = "call_disconnected";
    public const string CallCompleted = "call_completed";
    public const string UserSpoke = "user_spoke";
    public const string AgentSpoke = "agent_spoke";
    public const string ToolCalled = "tool_called";
    public const string RecordingSaved = "recording_saved";
    public const string CleanupCompleted = "cleanup_completed";
    public const string NodeEntered = "node_entered";
    public const string NodeTransition = "node_transition";

    [LoggerMessage(EventId = 1, EventName = CallStarted, Level = LogLevel.Information,
        Message = "call_started {CallId} agent {Agent} via {Provider}")]
    public static partial void LogCallStarted(this ILogger logger, Guid callId, string agent, string provider);

    [LoggerMessage(EventId = 2, EventName = CallConnected, Level = LogLevel.Information,
        Message = "call_connected {CallId} agent {Agent} via {Provider}")]
    public static partial void LogCallConnected(this ILogger logger, Guid callId, string agent, string provider);

    [LoggerMessage(EventId = 3, EventName = CallDisconnected, Level = LogLevel.Information,
        Message = "call_disconnected {CallId} agent {Agent} via {Provider}: {Reason}")]
    public static partial void LogCallDisconnected(this ILogger logger, Guid callId, string agent, string provider, string reason);

    [LoggerMessage(EventId = 4, EventName = CallCompleted, Level = LogLevel.Information,
        Message = "call_completed {CallId} agent {Agent} status {Status} after {DurationSeconds:0.0} s: {EndReason}")]
    public static partial void LogCallCompleted(this ILogger logger, Guid callId, string agent, string status, double durationSeconds, string? endReason);

    [LoggerMessage(EventId = 5, EventName = UserSpoke, Level = LogLevel.Information,
        Message = "user_spoke {CallId} agent {Agent} node {Node}: {Text}")]
    public static partial void LogUserSpoke(this ILogger logger, Guid callId, string agent, string? node, string text);

    [LoggerMessage(EventId = 6, EventName = AgentSpoke, Level = LogLevel.Information,
        Message = "agent_spoke {CallId} agent {Agent} node {Node}: {Text}")]
    public static partial void LogAgentSpoke(this ILogger logger, Guid callId, string agent, string? node, string text);

    [LoggerMessage(EventId = 7, EventName = ToolCalled, Level = LogLevel.Information,
        Message = "tool_called {CallId} agent {Agent} node {Node} tool {Tool}: {Outcome} in {LatencyMs:0} ms")]
    public static partial void LogToolCalled(this ILogger logger, Guid callId, string agent, string? node, string tool, string outcome, double latencyMs);

    [LoggerMessage(EventId = 8, EventName = RecordingSaved, Level = LogLevel.Information,
        Message = "recording_saved {CallId} agent {Agent} {Path} ({DurationSeconds:0.0} s, {Bytes} bytes)")]
    public static partial void LogRecordingSaved(this ILogger logger, Guid callId, string agent, string path, double durationSeconds, long bytes);

    [LoggerMessage(EventId = 9, EventName = CleanupCompleted, Level = LogLevel.Information,
        Message = "cleanup_completed {Job}: {RowsChanged} rows changed, {FilesDeleted} files deleted ({BytesFreed} bytes)")]
    public static partial void LogCleanupCompleted(this ILogger logger, string job, int rowsChanged, int filesDeleted, long bytesFreed);

    [LoggerMessage(EventId = 10, EventName = NodeEntered, Level = LogLevel.Information,
        Message = "node_entered {CallId} agent {Agent} node {Node}")]
    public static partial void LogNodeEntered(this ILogger logger, Guid callId, string agent, string node);

    [LoggerMessage(EventId = 11, EventName = NodeTransition, Level = LogLevel.Information,
        Message = "node_transition {CallId} agent {Agent} from {FromNode} to {Node} by {Trigger}")]
    public static partial void LogNodeTransition(this ILogger logger, Guid callId, string agent, string fromNode, string node, string trigger);

    [LoggerMessage(EventId = 12, EventName = "speech_provider_failed", Level = LogLevel.Error,
        Message = "speech_provider_failed {CallId} agent {Agent}: {Problem}")]
    public static partial void LogSpeechProviderFailed(this ILogger logger, Guid callId, string agent, string problem);
}
