using System.Text.Json;

namespace VoiceStudio.Media.Telephony.Exotel;

/// <summary>
/// Exotel Voicebot applet stream: connected, start, media (PCM16 LE at 8 or 16 kHz, ~100 ms), dtmf, mark, stop in;
/// media, mark, clear out. Exotel has no REST hang-up: the call ends when the socket closes.
/// </summary>
public sealed class ExotelSerializer(int sampleRate = 8000) : TelephonySerializer
{
    public override string Provider => "exotel";

    protected override bool IsMediaEvent(ReadOnlySpan<byte> eventName) => eventName.SequenceEqual("media"u8);

    protected override InboundMessage ParseOther(string eventName, JsonElement root)
    {
        switch (eventName)
        {
            case "connected":
                return new InboundMessage(InboundKind.Connected);
            case "start":
                var start = Child(root, "start");
                var format = Child(start, "media_format");
                StreamId = Text(start, "stream_sid") ?? Required(root, "stream_sid", "start message");
                Encoding = AudioEncoding.Pcm16;
                SampleRate = Rate(Text(format, "sample_rate"), sampleRate);
                return new InboundMessage(InboundKind.Start, Start: new StreamStart(
                    StreamId, Required(start, "call_sid", "start message"), Text(start, "account_sid"),
                    Text(start, "from"), Text(start, "to"), Parameters(Child(start, "custom_parameters")), Encoding, SampleRate));
            case "dtmf":
                return new InboundMessage(InboundKind.Dtmf, Digit: Digit(Child(root, "dtmf")));
            case "mark":
                return new InboundMessage(InboundKind.Mark, Name: Text(Child(root, "mark"), "name"));
            case "stop":
                return new InboundMessage(InboundKind.Stop);
            default:
                return new InboundMessage(InboundKind.Unknown, Event: eventName);
        }
    }

    protected override void WriteMedia(Utf8JsonWriter writer, ReadOnlySpan<byte> audio)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "media"u8);
        writer.WriteString("stream_sid"u8, RequireStream());
        writer.WriteStartObject("media"u8);
        writer.WriteBase64String("payload"u8, audio);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected override void WriteMark(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "mark"u8);
        writer.WriteString("stream_sid"u8, RequireStream());
        writer.WriteStartObject("mark"u8);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected override void WriteClear(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "clear"u8);
        writer.WriteString("stream_sid"u8, RequireStream());
        writer.WriteEndObject();
    }
}
