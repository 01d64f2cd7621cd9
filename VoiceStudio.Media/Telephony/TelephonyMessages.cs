namespace VoiceStudio.Media.Telephony;

public enum AudioEncoding
{
    /// <summary>G.711 μ-law, 8-bit codes.</summary>
    MuLaw,
    /// <summary>16-bit little-endian linear PCM.</summary>
    Pcm16,
}

public enum InboundKind
{
    /// <summary>Socket open acknowledgement (Twilio, Exotel).</summary>
    Connected,
    /// <summary>The stream's metadata: ids, numbers, custom parameters, audio format.</summary>
    Start,
    /// <summary>Caller audio, decoded from base64 into the caller's buffer.</summary>
    Media,
    Dtmf,
    /// <summary>The provider played our audio up to a mark / checkpoint.</summary>
    Mark,
    /// <summary>The provider cleared our queued audio (Vobiz clearedAudio).</summary>
    Cleared,
    Stop,
    /// <summary>A typed turn (browser test console).</summary>
    Text,
    /// <summary>An event this protocol does not define; log it and go on.</summary>
    Unknown,
}

/// <summary>The stream's metadata from the provider's start message.</summary>
public sealed record StreamStart(
    string StreamId,
    string CallId,
    string? AccountId,
    string? From,
    string? To,
    IReadOnlyDictionary<string, string> CustomParameters,
    AudioEncoding Encoding,
    int SampleRate);

/// <summary>One parsed provider message. For <see cref="InboundKind.Media"/>, <see cref="AudioBytes"/> bytes were written to the caller's buffer.</summary>
public readonly record struct InboundMessage(InboundKind Kind, int AudioBytes = 0, StreamStart? Start = null, char Digit = '\0', string? Name = null, string? Event = null, string? Text = null);

/// <summary>A provider message that cannot be understood; <see cref="Exception.Message"/> says why.</summary>
public sealed class TelephonyProtocolException(string message) : Exception(message);
