using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace VoiceStudio.Media.Telephony;

/// <summary>
/// One call's provider wire protocol (SPEC §5): parses the provider's JSON messages and writes ours. Media messages,
/// 50 a second, are read with <see cref="Utf8JsonReader"/> and their base64 payload decoded straight into the
/// caller's buffer, with no allocation; the rare others go through <see cref="JsonDocument"/>. Anything malformed
/// becomes a <see cref="TelephonyProtocolException"/> naming the problem. Not thread-safe: one per call.
/// </summary>
public abstract class TelephonySerializer : IDisposable
{
    /// <summary>Largest message accepted (a 100 ms PCM16 chunk at 16 kHz is ~4.3 KB of base64).</summary>
    public const int MaxMessageBytes = 64 * 1024;

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private readonly Utf8JsonWriter _writer;

    protected TelephonySerializer() => _writer = new Utf8JsonWriter(_output);

    public abstract string Provider { get; }

    /// <summary>The stream id from the start message (null before it).</summary>
    public string? StreamId { get; protected set; }

    /// <summary>Format of the audio the provider sends and expects, known once the stream started.</summary>
    public AudioEncoding Encoding { get; protected set; } = AudioEncoding.MuLaw;

    public int SampleRate { get; protected set; } = 8000;

    /// <summary>The largest media payload <see cref="Parse"/> can decode, for sizing the audio buffer.</summary>
    public static int MaxAudioBytes => Base64.GetMaxDecodedFromUtf8Length(MaxMessageBytes);

    /// <summary>True when this protocol sends audio as binary messages (the browser) rather than JSON.</summary>
    public virtual bool BinaryMedia => false;

    /// <summary>Parses one received message, text (JSON) or binary.</summary>
    public InboundMessage Parse(ReadOnlySpan<byte> message, bool binary, Span<byte> audio) =>
        binary ? ParseBinary(message, audio) : Parse(message, audio);

    /// <summary>A binary message: raw audio in the browser protocol; not part of any telephony provider's protocol.</summary>
    protected virtual InboundMessage ParseBinary(ReadOnlySpan<byte> message, Span<byte> audio) =>
        throw new TelephonyProtocolException($"binary message of {message.Length} bytes: {Provider} sends JSON text messages only");

    public InboundMessage Parse(ReadOnlySpan<byte> utf8Json, Span<byte> audio)
    {
        if (utf8Json.Length > MaxMessageBytes)
        {
            throw new TelephonyProtocolException($"message of {utf8Json.Length} bytes exceeds the {MaxMessageBytes}-byte limit");
        }
        var eventName = ScanMedia(utf8Json, audio, out var payloadBytes);
        if (eventName.IsEmpty)
        {
            throw new TelephonyProtocolException("message has no \"event\"");
        }
        if (IsMediaEvent(eventName))
        {
            return payloadBytes < 0
                ? throw new TelephonyProtocolException("media message has no payload")
                : new InboundMessage(InboundKind.Media, payloadBytes);
        }
        try
        {
            using var document = JsonDocument.Parse(utf8Json.ToArray());
            return ParseOther(System.Text.Encoding.UTF8.GetString(eventName), document.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new TelephonyProtocolException($"{System.Text.Encoding.UTF8.GetString(eventName)} message is malformed: {e.Message}");
        }
    }

    /// <summary>
    /// Our audio to the caller, already in <see cref="Encoding"/> at <see cref="SampleRate"/>. The returned memory is
    /// valid until the next message is written.
    /// </summary>
    public virtual ReadOnlyMemory<byte> Media(ReadOnlySpan<byte> audio)
    {
        WriteMedia(Begin(), audio);
        return End();
    }

    /// <summary>Asks to be told when the audio sent so far has been played.</summary>
    public ReadOnlyMemory<byte> Mark(string name)
    {
        WriteMark(Begin(), name);
        return End();
    }

    /// <summary>Drops the audio the provider has queued (barge-in).</summary>
    public ReadOnlyMemory<byte> Clear()
    {
        WriteClear(Begin());
        return End();
    }

    protected abstract bool IsMediaEvent(ReadOnlySpan<byte> eventName);

    protected abstract InboundMessage ParseOther(string eventName, JsonElement root);

    protected abstract void WriteMedia(Utf8JsonWriter writer, ReadOnlySpan<byte> audio);

    protected abstract void WriteMark(Utf8JsonWriter writer, string name);

    protected abstract void WriteClear(Utf8JsonWriter writer);

    protected string RequireStream() => StreamId ?? throw new InvalidOperationException("the stream has not started");

    public void Dispose()
    {
        _writer.Dispose();
        GC.SuppressFinalize(this);
    }

    private Utf8JsonWriter Begin()
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        return _writer;
    }

    private ReadOnlyMemory<byte> End()
    {
        _writer.Flush();
        return _output.WrittenMemory;
    }

    /// <summary>One pass: the top-level "event" and, when present, media.payload decoded into <paramref name="audio"/>.</summary>
    private static ReadOnlySpan<byte> ScanMedia(ReadOnlySpan<byte> json, Span<byte> audio, out int payloadBytes)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        ReadOnlySpan<byte> eventName = default;
        payloadBytes = -1;
        var inMedia = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new TelephonyProtocolException("message is not a JSON object");
            }
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 1)
                {
                    inMedia = false;
                }
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }
                if (reader.CurrentDepth == 1 && reader.ValueTextEquals("event"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped)
                    {
                        throw new TelephonyProtocolException("\"event\" is not a plain string");
                    }
                    eventName = reader.ValueSpan;
                }
                else if (reader.CurrentDepth == 1 && reader.ValueTextEquals("media"u8))
                {
                    reader.Read();
                    inMedia = reader.TokenType == JsonTokenType.StartObject;
                    if (!inMedia)
                    {
                        reader.Skip();
                    }
                }
                else if (inMedia && reader.CurrentDepth == 2 && reader.ValueTextEquals("payload"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new TelephonyProtocolException("media payload is not a string");
                    }
                    payloadBytes = DecodeBase64(ref reader, audio);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            throw new TelephonyProtocolException($"malformed JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw new TelephonyProtocolException($"malformed JSON string: {e.Message}"); // e.g. an escape that is not valid UTF-16
        }
        return eventName;
    }

    private static int DecodeBase64(ref Utf8JsonReader reader, Span<byte> audio)
    {
        ReadOnlySpan<byte> text = reader.ValueSpan;
        byte[]? rented = null;
        try
        {
            if (reader.ValueIsEscaped || reader.HasValueSequence)
            {
                rented = ArrayPool<byte>.Shared.Rent(reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length);
                var length = reader.CopyString(rented);
                text = rented.AsSpan(0, length);
            }
            if (Base64.GetMaxDecodedFromUtf8Length(text.Length) > audio.Length)
            {
                throw new TelephonyProtocolException($"media payload of {text.Length} base64 bytes does not fit the {audio.Length}-byte audio buffer");
            }
            var status = Base64.DecodeFromUtf8(text, audio, out _, out var written);
            return status == OperationStatus.Done ? written : throw new TelephonyProtocolException("media payload is not valid base64");
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A string property, or null when absent or not a string.</summary>
    protected static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    protected static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    protected static string Required(JsonElement element, string name, string what) =>
        Text(element, name) is { Length: > 0 } value ? value : throw new TelephonyProtocolException($"{what} has no \"{name}\"");

    /// <summary>A JSON object of string values (custom parameters), as a dictionary; other values as their JSON text.</summary>
    protected static Dictionary<string, string> Parameters(JsonElement element)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                result[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }
        return result;
    }

    protected static char Digit(JsonElement dtmf)
    {
        var digit = Text(dtmf, "digit");
        return digit is { Length: 1 } && "0123456789*#ABCD".Contains(digit[0], StringComparison.Ordinal)
            ? digit[0]
            : throw new TelephonyProtocolException($"dtmf digit '{digit}' is not one of 0-9 * # A-D");
    }

    protected static int Rate(string? value, int fallback) =>
        value is null ? fallback
        : int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var rate) && rate is 8000 or 16000 or 24000
            ? rate
            : throw new TelephonyProtocolException($"sample rate '{value}' is not 8000, 16000 or 24000");
}
