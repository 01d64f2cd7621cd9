namespace VoiceStudio.Media.Calls;

/// <summary>
/// What the call engine talks to: turns in, replies out. The flow runtime (deterministic nodes or an LLM) implements
/// it; the engine only speaks what it is given, reports what it heard, and obeys hang-up and transfer requests.
/// Calls into one conversation are never concurrent.
/// </summary>
public interface IConversation
{
    /// <summary>The phrases the current step expects, to bias recognition (null: anything).</summary>
    IReadOnlyList<string>? ExpectedPhrases { get; }

    /// <summary>Whether the caller may interrupt what the agent is saying now.</summary>
    bool AllowInterrupt { get; }

    /// <summary>The greeting and whatever follows it, before the caller has said anything.</summary>
    IAsyncEnumerable<ConversationOutput> StartAsync(CancellationToken cancellationToken);

    /// <summary>The caller finished a turn (the recognizer's final text; may be empty when nothing was understood).</summary>
    IAsyncEnumerable<ConversationOutput> UserSpokeAsync(string text, CancellationToken cancellationToken);

    IAsyncEnumerable<ConversationOutput> DtmfAsync(char digit, CancellationToken cancellationToken);

    /// <summary>The caller said nothing for the idle timeout; <paramref name="times"/> counts consecutive idles.</summary>
    IAsyncEnumerable<ConversationOutput> UserIdleAsync(int times, CancellationToken cancellationToken);

    /// <summary>The caller cut the agent off: <paramref name="spoken"/> is the part of the reply actually played.</summary>
    void Interrupted(string spoken);
}

/// <summary>What a conversation asks the engine to do, in order.</summary>
public abstract record ConversationOutput;

/// <summary>Speak this text (a sentence or a fragment of a streamed reply).</summary>
public sealed record Say(string Text) : ConversationOutput;

/// <summary>End the call after what was said so far has been played.</summary>
public sealed record HangUp(string Reason) : ConversationOutput;

/// <summary>Transfer the call to <paramref name="Number"/> after what was said so far has been played.</summary>
public sealed record Transfer(string Number) : ConversationOutput;

/// <summary>Something for the trace (node entered, tool called…): passed through to the call's observer.</summary>
public sealed record Trace(string Type, IReadOnlyDictionary<string, object?> Data) : ConversationOutput;
