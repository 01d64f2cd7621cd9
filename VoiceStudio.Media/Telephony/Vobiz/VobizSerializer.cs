using System.Text.Json;

namespace VoiceStudio.Media.Telephony.Vobiz;

/// <summary>
/// Vobiz (Plivo-style bidirectional &lt;Stream&gt;): start, media (μ-law 8 kHz), dtmf, playedStream, clearedAudio in;
/// playAudio, checkpoint, clearAudio out. Closing the socket ends the call.
/// </summary>
public sealed class VobizSerializer : TelephonySerializer
{
    public override string Provider => "vobiz";

    protected override bool IsMediaEvent(ReadOnlySpan<byte> eventName) => eventName.SequenceEqual("media"u8);

    protected override InboundMessage ParseOther(string eventName, JsonElement root)
    {
        switch (eventName)
        {
            case "start":
                var start = Child(root, "start");
                var format = Child(start, "mediaFormat");
                var encoding = Text(format, "encoding") ?? "audio/x-mulaw";
                Encoding = encoding switch
                {
                    "audio/x-mulaw" => AudioEncoding.MuLaw,
                    "audio/x-l16" => AudioEncoding.Pcm16,
                    _ => throw new TelephonyProtocolException($"media format '{encoding}' is not audio/x-mulaw or audio/x-l16"),
                };
                StreamId = Text(start, "streamId") ?? Required(root, "streamId", "start message");
                SampleRate = Rate(Text(format, "sampleRate"), 8000);
                var headers = Text(root, "extra_headers");
                return new InboundMessage(InboundKind.Start, Start: new StreamStart(
                    StreamId, Required(start, "callId", "start message"), Text(start, "accountId"),
                    Text(start, "from"), Text(start, "to"), ExtraHeaders(headers), Encoding, SampleRate));
            case "dtmf":
                return new InboundMessage(InboundKind.Dtmf, Digit: Digit(Child(root, "dtmf")));
            case "playedStream":
                return new InboundMessage(InboundKind.Mark, Name: Text(root, "name"));
            case "clearedAudio":
                return new InboundMessage(InboundKind.Cleared);
            case "stop":
                return new InboundMessage(InboundKind.Stop);
            default:
                return new InboundMessage(InboundKind.Unknown, Event: eventName);
        }
    }

    /// <summary>Vobiz passes custom values as a JSON string of headers.</summary>
    private static Dictionary<string, string> ExtraHeaders(string? headers)
    {
        if (string.IsNullOrWhiteSpace(headers))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }
        try
        {
            using var document = JsonDocument.Parse(headers);
            return Parameters(document.RootElement);
        }
        catch (JsonException)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    protected override void WriteMedia(Utf8JsonWriter writer, ReadOnlySpan<byte> audio)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "playAudio"u8);
        writer.WriteStartObject("media"u8);
        writer.WriteString("contentType"u8, Encoding == AudioEncoding.MuLaw ? "audio/x-mulaw"u8 : "audio/x-l16"u8);
        writer.WriteNumber("sampleRate"u8, SampleRate);
        writer.WriteBase64String("payload"u8, audio);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected override void WriteMark(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "checkpoint"u8);
        writer.WriteString("streamId"u8, RequireStream());
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
    }

    protected override void WriteClear(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, "clearAudio"u8);
        writer.WriteString("streamId"u8, RequireStream());
        writer.WriteEndObject();
    }
}
