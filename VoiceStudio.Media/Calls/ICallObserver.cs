namespace VoiceStudio.Media.Calls;

/// <summary>Latency parts of one turn, each measured from the end of the caller's speech (VAD stop).</summary>
public sealed record TurnLatency(
    int Turn,
    double VadStopSeconds,
    double SttFinalMs,
    double FirstReplyTextMs,
    double FirstTtsAudioMs,
    double FirstAudioSentMs)
{
    /// <summary>A streaming recognizer's first interim text, from the moment the caller started speaking (null: none, or an embedded recognizer).</summary>
    public double? SttFirstInterimMs { get; init; }
}

/// <summary>
/// Everything a call reports, in order, from the session's own flow (never concurrently for one call). The web
/// layer turns these into call rows, events, Redis messages and logs; the engine knows nothing of those.
/// </summary>
public interface ICallObserver
{
    void Started(StreamInfo stream);
    void UserSpoke(string text, TimeSpan at);
    void AgentSpoke(string text, TimeSpan at);
    void Interrupted(string spoken, TimeSpan at);
    void Dtmf(char digit, TimeSpan at);
    void UserIdle(int times, TimeSpan at);
    void TurnMeasured(TurnLatency latency);
    void GreetingMeasured(double firstAudioMs);
    void Traced(Trace trace);
    void Ended(CallEnd end);
}

public sealed record StreamInfo(string Provider, string StreamId, string ProviderCallId, string? From, string? To,
    IReadOnlyDictionary<string, string> Parameters, int SampleRate);

public sealed record CallEnd(string Reason, bool ByAgent, Recording.RecordingInfo? Recording, string? TransferTo);
