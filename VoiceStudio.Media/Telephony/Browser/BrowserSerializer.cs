using System.Text.Json;

namespace VoiceStudio.Media.Telephony.Browser;

/// <summary>
/// The browser media socket (<c>/ws/browser/{agent}</c>, the designer's test console). Audio travels as binary
/// messages, raw PCM16 little-endian mono at 16 kHz, both ways; control travels as JSON text messages with an
/// <c>event</c> field, like the providers' protocols:
/// <list type="bullet">
/// <item>in: <c>start</c> {parameters?}, binary audio, <c>text</c> {text} (a typed turn), <c>dtmf</c> {digit},
/// <c>mark</c> {name} (audio played up to a mark), <c>stop</c>;</item>
/// <item>out: binary audio in 20 ms frames, <c>mark</c> {name}, <c>clear</c> (drop queued audio: barge-in), plus the
/// call's reports (started, transcript, node, interruption, trace, latency, end) written by the web layer.</item>
/// </list>
/// </summary>
public sealed class BrowserSerializer(string user) : TelephonySerializer
{
    public const int AudioRate = 16000;

    private readonly byte[] _media = new byte[AudioRate / 50 * 2];

    public override string Provider => "browser";

    public override bool BinaryMedia => true;

    public override ReadOnlyMemory<byte> Media(ReadOnlySpan<byte> audio)
    {
        audio.CopyTo(_media);
        return _media.AsMemory(0, audio.Length);
    }

    protected override InboundMessage ParseBinary(ReadOnlySpan<byte> message, Span<byte> audio)
    {
        if (message.Length % 2 != 0)
        {
            throw new TelephonyProtocolException($"binary audio of {message.Length} bytes is not whole 16-bit samples");
        }
        if (message.Length > audio.Length)
        {
            throw new TelephonyProtocolException($"binary audio of {message.Length} bytes exceeds the {audio.Length}-byte limit");
        }
        message.CopyTo(audio);
        return new InboundMessage(InboundKind.Media, message.Length);
    }

    protected override bool IsMediaEvent(ReadOnlySpan<byte> eventName) => false;

    protected override InboundMessage ParseOther(string eventName, JsonElement root)
    {
        switch (eventName)
        {
            case "start":
                StreamId = Guid.NewGuid().ToString("N");
                Encoding = AudioEncoding.Pcm16;
                SampleRate = AudioRate;
                return new InboundMessage(InboundKind.Start, Start: new StreamStart(
                    StreamId, StreamId, null, user, null, Parameters(Child(root, "parameters")), Encoding, SampleRate));
            case "text":
                var text = Text(root, "text") ?? throw new TelephonyProtocolException("text message has no \"text\"");
                return text.Length > 2000
                    ? throw new TelephonyProtocolException($"text of {text.Length} characters exceeds the 2000-character limit")
                    : new InboundMessage(InboundKind.Text, Text: text.Trim());
            case "dtmf":
                return new InboundMessage(InboundKind.Dtmf, Digit: Digit(root));
            case "mark":
                return new InboundMessage(InboundKind.Mark, Name: Text(root, "name"));
            case "stop":
                return new InboundMessage(InboundKind.Stop);
            default:
                return new InboundMessage(InboundKind.Unknown, Event: eventName);
        }
    }

    protected override void WriteMedia(Utf8JsonWriter writer, ReadOnlySpan<byte> audio) =>
        throw new NotSupportedException("browser audio is sent as binary messages");

    protected override void WriteMark(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "mark"u8);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
    }

    protected override void WriteClear(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "clear"u8);
        writer.WriteEndObject();
    }
}
