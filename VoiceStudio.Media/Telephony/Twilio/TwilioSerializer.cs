using System.Text.Json;

namespace VoiceStudio.Media.Telephony.Twilio;

/// <summary>
/// Twilio Media Streams (bidirectional, &lt;Connect&gt;&lt;Stream&gt;): connected, start, media (μ-law 8 kHz, ~20 ms),
/// dtmf, mark, stop in; media, mark, clear out.
/// </summary>
public sealed class TwilioSerializer : StreamEventSerializer
{
    public override string Provider => "twilio";

    protected override string StreamIdProperty => "streamSid";

    protected override InboundMessage ParseStart(JsonElement root)
    {
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
    }
}
