using Microsoft.Extensions.Logging;
using VoiceStudio.Media.Diagnostics;

namespace VoiceStudio.Tests.Media;

public sealed class CallLogTests
{
    private static readonly string[] SpecEvents =
    [
        "call_started", "call_connected", "call_disconnected", "call_completed", "user_spoke", "agent_spoke",
        "tool_called", "recording_saved", "cleanup_completed", "node_entered", "node_transition",
    ];

    [Fact]
    public void Every_named_event_of_the_spec_is_logged_with_its_name_and_structured_properties()
    {
        var logger = new CapturingLogger();
        var call = Guid.NewGuid();
        logger.LogCallStarted(call, "demo", "twilio");
        logger.LogCallConnected(call, "demo", "twilio");
        logger.LogCallDisconnected(call, "demo", "twilio", "stop");
        logger.LogCallCompleted(call, "demo", "completed", 12.5, "caller hung up");
        logger.LogUserSpoke(call, "demo", "main_menu", "book");
        logger.LogAgentSpoke(call, "demo", "main_menu", "Which day?");
        logger.LogToolCalled(call, "demo", "book", "book_appointment", "ok", 42);
        logger.LogRecordingSaved(call, "demo", "a.wav", 12.5, 400_000);
        logger.LogCleanupCompleted("recording_cleanup", 1, 2, 3);
        logger.LogNodeEntered(call, "demo", "main_menu");
        logger.LogNodeTransition(call, "demo", "main_menu", "ask_day", "intent:book");

        Assert.Equal(SpecEvents, logger.Entries.Select(e => e.EventId.Name));
        Assert.All(logger.Entries, e => Assert.StartsWith(e.EventId.Name + " ", e.Message, StringComparison.Ordinal));
        Assert.All(logger.Entries.Where(e => e.EventId.Name != "cleanup_completed"), e =>
        {
            Assert.Equal(call, e.Properties["CallId"]);
            Assert.Equal("demo", e.Properties["Agent"]);
        });
        Assert.Equal("ask_day", logger.Entries.Single(e => e.EventId.Name == "node_transition").Properties["Node"]);
    }

    private sealed class CapturingLogger : ILogger
    {
        public List<(EventId EventId, string Message, Dictionary<string, object?> Properties)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : [];
            Entries.Add((eventId, formatter(state, exception), properties));
        }
    }
}
