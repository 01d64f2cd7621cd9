using System.Text.Json;

namespace VoiceStudio.Media.Telephony.Exotel;

/// <summary>
/// Exotel Voicebot applet stream: connected, start, media (PCM16 LE at 8 or 16 kHz, ~100 ms), dtmf, mark, stop in;
/// media, mark, clear out. Exotel has no REST hang-up: the call ends when the socket closes.
/// </summary>
public sealed class ExotelSerializer(int sampleRate = 8000) : StreamEventSerializer
{
    public override string Provider => "exotel";

    protected override string StreamIdProperty => "stream_sid";

    protected override InboundMessage ParseStart(JsonElement root)
    {
        var start = Child(root, "start");
        var format = Child(start, "media_format");
        StreamId = Text(start, "stream_sid") ?? Required(root, "stream_sid", "start message");
        Encoding = AudioEncoding.Pcm16;
        SampleRate = Rate(Text(format, "sample_rate"), sampleRate);
        return new InboundMessage(InboundKind.Start, Start: new StreamStart(
            StreamId, Required(start, "call_sid", "start message"), Text(start, "account_sid"),
            Text(start, "from"), Text(start, "to"), Parameters(Child(start, "custom_parameters")), Encoding, SampleRate));
    }
}
