using System.Text.Json;

namespace VoiceStudio.Media.Telephony.Twilio;

/// <summary>
/// Twilio Media Streams (bidirectional, &lt;Connect&gt;&lt;Stream&gt;): connected, start, media (μ-law 8 kHz, ~20 ms),
/// dtmf, mark, stop in; media, mark, clear out.
/// </summary>
public sealed class TwilioSerializer : TelephonySerializer
{
    public override string Provider => "twilio";

    protected override bool IsMediaEvent(ReadOnlySpan<byte> eventName) => eventName.SequenceEqual("media"u8);

    protected override InboundMessage ParseOther(string eventName, JsonElement root)
    {
        switch (eventName)
        {
            case "connected":
                return new InboundMessage(InboundKind.Connected);
            case "start":
                var start = Child(root, "start");
                var format = Child(start, "mediaFormat");
                var encoding = Text(format, "encoding") ?? "audio/x-mulaw";
                if (encoding != "audio/x-mulaw")
                {
                    throw new TelephonyProtocolException($"media format '{encoding}' is not audio/x-mulaw");
                }
                StreamId = Text(start, "streamSid") ?? Required(root, "streamSid", "start message");
                Encoding = AudioEncoding.MuLaw;
                SampleRate = Rate(Text(format, "sampleRate"), 8000);
                var parameters = Parameters(Child(start, "customParameters"));
                return new InboundMessage(InboundKind.Start, Start: new StreamStart(
                    StreamId, Required(start, "callSid", "start message"), Text(start, "accountSid"),
                    parameters.GetValueOrDefault("from") ?? parameters.GetValueOrDefault("From"),
                    parameters.GetValueOrDefault("to") ?? parameters.GetValueOrDefault("To"),
                    parameters, Encoding, SampleRate));
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
        writer.WriteString("streamSid"u8, RequireStream());
        writer.WriteStartObject("media"u8);
        writer.WriteBase64String("payload"u8, audio);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected override void WriteMark(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "mark"u8);
        writer.WriteString("streamSid"u8, RequireStream());
        writer.WriteStartObject("mark"u8);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected override void WriteClear(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "clear"u8);
        writer.WriteString("streamSid"u8, RequireStream());
        writer.WriteEndObject();
    }
}
