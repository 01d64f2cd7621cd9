using System.Text;
using System.Text.Json;
using VoiceStudio.Media.Telephony;
using VoiceStudio.Media.Telephony.Browser;
using VoiceStudio.Media.Telephony.Exotel;
using VoiceStudio.Media.Telephony.Twilio;
using VoiceStudio.Media.Telephony.Vobiz;

namespace VoiceStudio.Tests.Media;

public sealed class TelephonySerializerTests
{
    private static readonly byte[] Audio = Enumerable.Range(0, 160).Select(i => (byte)(i * 7)).ToArray();
    private static readonly string AudioBase64 = Convert.ToBase64String(Audio);

    private const string TwilioStart = """
        {"event":"start","sequenceNumber":"1","start":{"accountSid":"AC123","streamSid":"MZ456","callSid":"CA789",
         "tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
         "customParameters":{"from":"+15550001111","to":"+15550002222","call_id":"abc"}},"streamSid":"MZ456"}
        """;

    private const string ExotelStart = """
        {"event":"start","sequence_number":1,"stream_sid":"st-1","start":{"stream_sid":"st-1","call_sid":"ex-call",
         "account_sid":"acct","from":"09100000001","to":"08000000002","custom_parameters":{"lang":"en"},
         "media_format":{"encoding":"base64","sample_rate":"16000","bit_rate":"256kbps"}}}
        """;

    private const string VobizStart = """
        {"event":"start","sequenceNumber":0,"start":{"callId":"vz-call","streamId":"vz-stream","accountId":"MA1",
         "tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}},
         "extra_headers":"{\"call_id\":\"abc\"}"}
        """;

    [Fact]
    public void Twilio_messages_parse_as_documented()
    {
        using var twilio = new TwilioSerializer();
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        Assert.Equal(InboundKind.Connected, Parse(twilio, """{"event":"connected","protocol":"Call","version":"1.0.0"}""", buffer).Kind);

        var start = Parse(twilio, TwilioStart, buffer).Start!;
        Assert.Equal(("MZ456", "CA789", "AC123", "+15550001111", "+15550002222"), (start.StreamId, start.CallId, start.AccountId, start.From, start.To));
        Assert.Equal("abc", start.CustomParameters["call_id"]);
        Assert.Equal((AudioEncoding.MuLaw, 8000), (start.Encoding, start.SampleRate));

        var media = Parse(twilio, $$$"""{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"{{{AudioBase64}}}"},"streamSid":"MZ456"}""", buffer);
        Assert.Equal(InboundKind.Media, media.Kind);
        Assert.Equal(Audio, buffer[..media.AudioBytes]);

        Assert.Equal('7', Parse(twilio, """{"event":"dtmf","streamSid":"MZ456","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"7"}}""", buffer).Digit);
        Assert.Equal("turn-3", Parse(twilio, """{"event":"mark","sequenceNumber":"4","streamSid":"MZ456","mark":{"name":"turn-3"}}""", buffer).Name);
        Assert.Equal(InboundKind.Stop, Parse(twilio, """{"event":"stop","sequenceNumber":"5","streamSid":"MZ456","stop":{"accountSid":"AC123","callSid":"CA789"}}""", buffer).Kind);
        var unknown = Parse(twilio, """{"event":"fancy","x":1}""", buffer);
        Assert.Equal((InboundKind.Unknown, "fancy"), (unknown.Kind, unknown.Event));
    }

    [Fact]
    public void Twilio_replies_are_media_mark_and_clear_for_the_stream()
    {
        using var twilio = new TwilioSerializer();
        Assert.Throws<InvalidOperationException>(() => twilio.Clear()); // no stream yet
        Parse(twilio, TwilioStart, new byte[TelephonySerializer.MaxAudioBytes]);

        var media = Json(twilio.Media(Audio));
        Assert.Equal("media", media.GetProperty("event").GetString());
        Assert.Equal("MZ456", media.GetProperty("streamSid").GetString());
        Assert.Equal(AudioBase64, media.GetProperty("media").GetProperty("payload").GetString());
        Assert.Equal("""{"event":"mark","streamSid":"MZ456","mark":{"name":"turn-1"}}""", Text(twilio.Mark("turn-1")));
        Assert.Equal("""{"event":"clear","streamSid":"MZ456"}""", Text(twilio.Clear()));
    }

    [Fact]
    public void Exotel_messages_parse_as_documented_and_replies_use_its_names()
    {
        using var exotel = new ExotelSerializer();
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        var start = Parse(exotel, ExotelStart, buffer).Start!;
        Assert.Equal(("st-1", "ex-call", "acct", "09100000001", "08000000002"), (start.StreamId, start.CallId, start.AccountId, start.From, start.To));
        Assert.Equal((AudioEncoding.Pcm16, 16000), (start.Encoding, start.SampleRate));
        Assert.Equal("en", start.CustomParameters["lang"]);

        var media = Parse(exotel, $$$"""{"event":"media","stream_sid":"st-1","media":{"chunk":2,"timestamp":"100","payload":"{{{AudioBase64}}}"}}""", buffer);
        Assert.Equal(Audio, buffer[..media.AudioBytes]);
        Assert.Equal('#', Parse(exotel, """{"event":"dtmf","stream_sid":"st-1","dtmf":{"duration":"80","digit":"#"}}""", buffer).Digit);
        Assert.Equal("m1", Parse(exotel, """{"event":"mark","stream_sid":"st-1","mark":{"name":"m1"}}""", buffer).Name);
        Assert.Equal(InboundKind.Stop, Parse(exotel, """{"event":"stop","stream_sid":"st-1","stop":{"call_sid":"ex-call","reason":"callended"}}""", buffer).Kind);

        Assert.Equal($$$"""{"event":"media","stream_sid":"st-1","media":{"payload":"{{{AudioBase64}}}"}}""", Text(exotel.Media(Audio)));
        Assert.Equal("""{"event":"mark","stream_sid":"st-1","mark":{"name":"m2"}}""", Text(exotel.Mark("m2")));
        Assert.Equal("""{"event":"clear","stream_sid":"st-1"}""", Text(exotel.Clear()));
    }

    [Fact]
    public void Vobiz_messages_parse_as_documented_and_replies_are_play_checkpoint_and_clear()
    {
        using var vobiz = new VobizSerializer();
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        var start = Parse(vobiz, VobizStart, buffer).Start!;
        Assert.Equal(("vz-stream", "vz-call", "MA1"), (start.StreamId, start.CallId, start.AccountId));
        Assert.Equal("abc", start.CustomParameters["call_id"]);
        Assert.Equal((AudioEncoding.MuLaw, 8000), (start.Encoding, start.SampleRate));

        var media = Parse(vobiz, $$$"""{"event":"media","sequenceNumber":4,"streamId":"vz-stream","media":{"track":"inbound","timestamp":"1","chunk":1,"payload":"{{{AudioBase64}}}"}}""", buffer);
        Assert.Equal(Audio, buffer[..media.AudioBytes]);
        Assert.Equal('5', Parse(vobiz, """{"event":"dtmf","streamId":"vz-stream","dtmf":{"track":"inbound","digit":"5"}}""", buffer).Digit);
        var played = Parse(vobiz, """{"event":"playedStream","sequenceNumber":9,"streamId":"vz-stream","name":"turn-2"}""", buffer);
        Assert.Equal((InboundKind.Mark, "turn-2"), (played.Kind, played.Name));
        Assert.Equal(InboundKind.Cleared, Parse(vobiz, """{"event":"clearedAudio","sequenceNumber":10,"streamId":"vz-stream"}""", buffer).Kind);

        var play = Json(vobiz.Media(Audio));
        Assert.Equal("playAudio", play.GetProperty("event").GetString());
        Assert.Equal("audio/x-mulaw", play.GetProperty("media").GetProperty("contentType").GetString());
        Assert.Equal(8000, play.GetProperty("media").GetProperty("sampleRate").GetInt32());
        Assert.Equal(AudioBase64, play.GetProperty("media").GetProperty("payload").GetString());
        Assert.Equal("""{"event":"checkpoint","streamId":"vz-stream","name":"turn-2"}""", Text(vobiz.Mark("turn-2")));
        Assert.Equal("""{"event":"clearAudio","streamId":"vz-stream"}""", Text(vobiz.Clear()));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "", "malformed JSON" },
        { "not json", "malformed JSON" },
        { "[1,2,3]", "not a JSON object" },
        { "{\"event\":", "malformed JSON" },
        { "{}", "no \"event\"" },
        { "{\"event\":42}", "not a plain string" },
        { "{\"event\":\"media\",\"media\":{\"payload\":\"!!!not base64!!!\"}}", "not valid base64" },
        { "{\"event\":\"media\",\"media\":{\"payload\":12}}", "payload is not a string" },
        { "{\"event\":\"media\",\"media\":{}}", "media message has no payload" },
        { "{\"event\":\"media\"}", "media message has no payload" },
        { "{\"event\":\"dtmf\",\"dtmf\":{\"digit\":\"x\"}}", "dtmf digit 'x'" },
        { "{\"event\":\"dtmf\"}", "dtmf digit" },
        { "{\"event\":\"start\",\"start\":{}}", "start message has no" },
        { "{\"event\":\"start\",\"start\":{\"streamSid\":\"a\",\"callSid\":\"b\",\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":44100}}}", "sample rate '44100'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_messages_are_refused_with_the_reason(string message, string reason)
    {
        using var twilio = new TwilioSerializer();
        var error = Assert.Throws<TelephonyProtocolException>(() => Parse(twilio, message, new byte[TelephonySerializer.MaxAudioBytes]));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_messages_and_payloads_are_refused()
    {
        using var twilio = new TwilioSerializer();
        var huge = $$$"""{"event":"media","media":{"payload":"{{{new string('A', TelephonySerializer.MaxMessageBytes)}}}"}}""";
        Assert.Contains("exceeds", Assert.Throws<TelephonyProtocolException>(() => Parse(twilio, huge, new byte[TelephonySerializer.MaxAudioBytes])).Message, StringComparison.Ordinal);
        var big = $$$"""{"event":"media","media":{"payload":"{{{Convert.ToBase64String(new byte[1000])}}}"}}""";
        Assert.Contains("does not fit", Assert.Throws<TelephonyProtocolException>(() => Parse(twilio, big, new byte[100])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Escaped_base64_is_decoded_too()
    {
        using var twilio = new TwilioSerializer();
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        var escaped = Convert.ToBase64String(Enumerable.Range(0, 255).Select(i => (byte)i).ToArray()).Replace("/", "\\/", StringComparison.Ordinal);
        var media = Parse(twilio, $$$"""{"event":"media","media":{"payload":"{{{escaped}}}"}}""", buffer);
        Assert.Equal(Enumerable.Range(0, 255).Select(i => (byte)i), buffer[..media.AudioBytes]);
    }

    [Fact]
    public void Fuzzed_messages_never_throw_anything_but_a_protocol_error()
    {
        var random = new Random(20261124);
        string[] seeds =
        [
            TwilioStart, ExotelStart, VobizStart,
            $$$"""{"event":"media","media":{"payload":"{{{AudioBase64}}}"},"streamSid":"MZ456"}""",
            """{"event":"dtmf","dtmf":{"digit":"1"}}""", """{"event":"mark","mark":{"name":"x"}}""",
            """{"event":"playedStream","name":"x"}""", """{"event":"stop"}""",
        ];
        TelephonySerializer[] serializers = [new TwilioSerializer(), new ExotelSerializer(), new VobizSerializer()];
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 30_000; i++)
        {
            var message = Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Length)]);
            Mutate(message, random, out var mutated);
            var serializer = serializers[i % serializers.Length];
            try
            {
                var parsed = serializer.Parse(mutated, buffer);
                outcomes[parsed.Kind.ToString()] = outcomes.GetValueOrDefault(parsed.Kind.ToString()) + 1;
            }
            catch (TelephonyProtocolException)
            {
                outcomes["refused"] = outcomes.GetValueOrDefault("refused") + 1;
            }
        }
        Assert.True(outcomes.GetValueOrDefault("refused") > 1000, "the fuzzer should produce many malformed messages");
        Assert.True(outcomes.GetValueOrDefault("Media") > 100, "and some that still parse");
        foreach (var serializer in serializers)
        {
            serializer.Dispose();
        }
    }

    [Fact]
    public void Parsing_media_allocates_nothing()
    {
        using var twilio = new TwilioSerializer();
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        var message = Encoding.UTF8.GetBytes($$$"""{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"{{{AudioBase64}}}"},"streamSid":"MZ456"}""");
        Parse(twilio, TwilioStart, buffer);
        for (var i = 0; i < 100; i++)
        {
            twilio.Parse(message, buffer);
            twilio.Media(Audio);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            twilio.Parse(message, buffer);
            twilio.Media(Audio);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void Mutate(byte[] message, Random random, out byte[] mutated)
    {
        mutated = (byte[])message.Clone();
        switch (random.Next(5))
        {
            case 0:
                mutated = mutated[..random.Next(mutated.Length)]; // truncate
                break;
            case 1:
                for (var k = random.Next(1, 4); k > 0; k--)
                {
                    mutated[random.Next(mutated.Length)] = (byte)random.Next(256); // flip bytes
                }
                break;
            case 2:
                mutated[random.Next(mutated.Length)] = (byte)"{}[]\":,\\"[random.Next(8)]; // structural damage
                break;
            case 3:
                var insert = Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "null", 1 => "{\"a\":[1,{}]}", _ => "\"\\u0000\"" });
                var at = random.Next(mutated.Length);
                mutated = [.. mutated[..at], .. insert, .. mutated[at..]];
                break;
            default:
                break; // unchanged
        }
    }

    [Fact]
    public void Browser_messages_are_binary_audio_and_json_control()
    {
        using var browser = new BrowserSerializer("ada");
        var buffer = new byte[TelephonySerializer.MaxAudioBytes];
        var start = Parse(browser, """{"event":"start","parameters":{"caller_name":"Ada"}}""", buffer).Start!;
        Assert.Equal((AudioEncoding.Pcm16, 16000, "ada"), (start.Encoding, start.SampleRate, start.From));
        Assert.Equal("Ada", start.CustomParameters["caller_name"]);
        Assert.True(browser.BinaryMedia);

        var media = browser.Parse(Audio, binary: true, buffer);
        Assert.Equal((InboundKind.Media, 160), (media.Kind, media.AudioBytes));
        Assert.Equal(Audio, buffer.AsSpan(0, 160).ToArray());
        Assert.Throws<TelephonyProtocolException>(() => browser.Parse(Audio.AsSpan(0, 159), binary: true, buffer)); // half a sample

        var typed = Parse(browser, """{"event":"text","text":" tuesday please "}""", buffer);
        Assert.Equal((InboundKind.Text, "tuesday please"), (typed.Kind, typed.Text));
        Assert.Equal('#', Parse(browser, """{"event":"dtmf","digit":"#"}""", buffer).Digit);
        Assert.Equal(InboundKind.Stop, Parse(browser, """{"event":"stop"}""", buffer).Kind);
        Assert.Equal(InboundKind.Unknown, Parse(browser, """{"event":"wave"}""", buffer).Kind);
        Assert.Throws<TelephonyProtocolException>(() => Parse(browser, """{"event":"text"}""", buffer));
        Assert.Throws<TelephonyProtocolException>(() => Parse(browser, $$"""{"event":"text","text":"{{new string('a', 2001)}}"}""", buffer));

        var frame = new byte[640];
        frame[1] = 9;
        Assert.Equal(frame, browser.Media(frame).ToArray()); // raw PCM, sent as a binary message
        Assert.Equal("clear", Json(browser.Clear()).GetProperty("event").GetString());
        Assert.Equal("played-1", Json(browser.Mark("played-1")).GetProperty("name").GetString());
    }

    [Fact]
    public void A_binary_message_on_a_telephony_socket_is_a_protocol_error()
    {
        using var twilio = new TwilioSerializer();
        var problem = Assert.Throws<TelephonyProtocolException>(() => twilio.Parse(Audio, binary: true, new byte[TelephonySerializer.MaxAudioBytes]));
        Assert.Contains("twilio sends JSON text messages only", problem.Message, StringComparison.Ordinal);
    }

    private static InboundMessage Parse(TelephonySerializer serializer, string message, byte[] buffer) =>
        serializer.Parse(Encoding.UTF8.GetBytes(message), buffer);

    private static JsonElement Json(ReadOnlyMemory<byte> message) => JsonDocument.Parse(message).RootElement.Clone();

    private static string Text(ReadOnlyMemory<byte> message) => Encoding.UTF8.GetString(message.Span);
}
