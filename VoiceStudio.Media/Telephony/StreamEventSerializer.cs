using System.Text.Json;

namespace VoiceStudio.Media.Telephony;

/// <summary>
/// The message shapes Twilio and Exotel share (connected, start, media, dtmf, mark, stop in; media, mark, clear
/// out), differing in the stream id's property name and in their start message.
/// </summary>
public abstract class StreamEventSerializer : TelephonySerializer
{
    /// <summary>"streamSid" (Twilio) or "stream_sid" (Exotel).</summary>
    protected abstract string StreamIdProperty { get; }

    protected abstract InboundMessage ParseStart(JsonElement root);

    protected sealed override bool IsMediaEvent(ReadOnlySpan<byte> eventName) => eventName.SequenceEqual("media"u8);

    protected sealed override InboundMessage ParseOther(string eventName, JsonElement root) => eventName switch
    {
        "connected" => new InboundMessage(InboundKind.Connected),
        "start" => ParseStart(root),
        "dtmf" => new InboundMessage(InboundKind.Dtmf, Digit: Digit(Child(root, "dtmf"))),
        "mark" => new InboundMessage(InboundKind.Mark, Name: Text(Child(root, "mark"), "name")),
        "stop" => new InboundMessage(InboundKind.Stop),
        _ => new InboundMessage(InboundKind.Unknown, Event: eventName),
    };

    protected sealed override void WriteMedia(Utf8JsonWriter writer, ReadOnlySpan<byte> audio)
    {
        Open(writer, "media"u8);
        writer.WriteStartObject("media"u8);
        writer.WriteBase64String("payload"u8, audio);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected sealed override void WriteMark(Utf8JsonWriter writer, string name)
    {
        Open(writer, "mark"u8);
        writer.WriteStartObject("mark"u8);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    protected sealed override void WriteClear(Utf8JsonWriter writer)
    {
        Open(writer, "clear"u8);
        writer.WriteEndObject();
    }

    private void Open(Utf8JsonWriter writer, ReadOnlySpan<byte> eventName)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, eventName);
        writer.WriteString(StreamIdProperty, RequireStream());
    }
}
