using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceStudio.Media.Audio;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Flite;
using VoiceStudio.Media.Speech.PocketSphinx;
using VoiceStudio.Media.Telephony.Browser;
using VoiceStudio.Media.Telephony.Twilio;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.Media;

/// <summary>
/// Whole calls through the session with the real VAD, PocketSphinx and Flite, a Twilio-speaking caller on the other
/// end of an in-memory transport, and a scripted conversation (the flow runtime is another issue).
/// </summary>
[Collection(SpeechPool.Name)]
public sealed class CallSessionTests(SpeechPool speech) : IDisposable
{
    private readonly string _recordings = Path.Combine(Path.GetTempPath(), "vs-session-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_call_greets_hears_a_turn_answers_takes_a_digit_and_hangs_up()
    {
        var conversation = new ScriptedConversation();
        await using var call = StartCall(conversation);

        var greeting = await call.Caller.ListenUntilQuietAsync();
        AssertSpoken(greeting, "Please say book, or hours.");

        await call.Caller.SayAsync("book an appointment");
        var reply = await call.Caller.ListenUntilQuietAsync();
        AssertSpoken(reply, "Which day?");

        await call.Caller.PressAsync('2');
        await call.Caller.ListenUntilQuietAsync();
        var end = await call.EndAsync();

        Assert.Equal("done", end.Reason);
        Assert.True(end.ByAgent);
        Assert.Equal(["book an appointment"], conversation.Heard);
        Assert.Equal(['2'], conversation.Digits);
        var observed = call.Observer;
        Assert.Equal("book an appointment", Assert.Single(observed.UserTurns));
        Assert.Contains("Which day?", observed.AgentLines);
        Assert.Single(observed.Greetings, ms => ms > 0);
        var latency = Assert.Single(observed.Turns);
        Assert.True(latency.SttFinalMs <= latency.FirstReplyTextMs && latency.FirstReplyTextMs <= latency.FirstTtsAudioMs
            && latency.FirstTtsAudioMs <= latency.FirstAudioSentMs, $"latency parts out of order: {latency}");
        Assert.Contains(call.Caller.Marks, m => m.StartsWith("played-", StringComparison.Ordinal));

        var recording = end.Recording!;
        Assert.True(File.Exists(recording.Path));
        Assert.InRange(recording.DurationSeconds, 3, 60);
        var (left, right) = Stereo(recording.Path);
        Assert.True(Energy(left) > 0 && Energy(right) > 0, "both the caller and the agent are in the recording");
    }

    [Fact]
    public async Task Speaking_over_the_agent_stops_it_clears_the_provider_and_tells_the_conversation()
    {
        var conversation = new ScriptedConversation { Greeting = "Hello. We are open Monday to Friday from nine to five. We are closed on weekends and public holidays. Thank you for calling." };
        await using var call = StartCall(conversation);

        await call.Caller.WaitForAgentAudioAsync(TimeSpan.FromSeconds(1.5));
        await call.Caller.SayAsync("opening hours");
        var afterClear = await call.Caller.WaitForClearAsync();
        Assert.True(afterClear, "a clear message was sent");
        var interrupted = Assert.Single(conversation.Interruptions);
        Assert.StartsWith("Hello.", interrupted, StringComparison.Ordinal);
        Assert.DoesNotContain("Thank you for calling", interrupted, StringComparison.Ordinal);
        Assert.Single(call.Observer.Interruptions);

        await call.Caller.ListenUntilQuietAsync();
        Assert.Equal(["opening hours"], conversation.Heard);
        await call.Caller.HangUpAsync();
        Assert.Equal("caller hung up", (await call.EndAsync()).Reason);
    }

    [Fact]
    public async Task When_the_step_forbids_interruptions_the_agent_keeps_talking()
    {
        var conversation = new ScriptedConversation { Greeting = "Please listen carefully. Our menu options have changed. Say book or hours.", AllowInterrupt = false };
        await using var call = StartCall(conversation);
        await call.Caller.WaitForAgentAudioAsync(TimeSpan.FromSeconds(1));
        await call.Caller.SayAsync("opening hours");
        await call.Caller.ListenUntilQuietAsync();
        Assert.False(call.Caller.Cleared);
        Assert.Empty(conversation.Interruptions);
        await call.Caller.HangUpAsync();
        await call.EndAsync();
    }

    [Fact]
    public async Task Bad_messages_mid_call_are_ignored_and_the_call_goes_on()
    {
        var conversation = new ScriptedConversation();
        await using var call = StartCall(conversation);
        await call.Caller.ListenUntilQuietAsync();
        foreach (var junk in new[] { "{", "[]", "{\"event\":\"media\",\"media\":{\"payload\":\"***\"}}", "{\"event\":\"dance\"}", new string('x', 70_000) })
        {
            await call.Caller.SendRawAsync(junk);
        }
        await call.Caller.SayAsync("book an appointment");
        AssertSpoken(await call.Caller.ListenUntilQuietAsync(), "Which day?");
        await call.Caller.HangUpAsync();
        Assert.Equal("caller hung up", (await call.EndAsync()).Reason);
    }

    [Fact]
    public async Task A_call_fed_garbage_does_not_disturb_another_call()
    {
        var goodConversation = new ScriptedConversation();
        var badConversation = new ScriptedConversation();
        // The flood makes this call slow on a small machine; the idle prompt is not what is tested here.
        var patient = new CallSessionOptions { UserIdleTimeout = TimeSpan.FromSeconds(60) };
        await using var good = StartCall(goodConversation, patient, callSid: "CA-good");
        await using var bad = StartCall(badConversation, callSid: "CA-bad");

        var flood = Task.Run(async () =>
        {
            var random = new Random(7);
            for (var i = 0; i < 2000; i++)
            {
                var junk = new byte[random.Next(1, 300)];
                random.NextBytes(junk);
                await bad.Caller.SendRawAsync(i % 3 == 0 ? "{\"event\":\"media\",\"media\":{\"payload\":\"%%%\"}}" : Encoding.Latin1.GetString(junk));
                if (i % 100 == 0)
                {
                    await Task.Delay(10);
                }
            }
        });
        AssertSpoken(await good.Caller.ListenUntilQuietAsync(), "Please say book, or hours.");
        await good.Caller.SayAsync("book an appointment");
        AssertSpoken(await good.Caller.ListenUntilQuietAsync(), "Which day?",
            $"turns heard: {string.Join(" | ", goodConversation.Heard)}; idle prompts: {goodConversation.Idles.Count}");
        await flood;
        await good.Caller.HangUpAsync();
        await bad.Caller.HangUpAsync();

        var goodEnd = await good.EndAsync();
        Assert.Equal(["book an appointment"], goodConversation.Heard);
        Assert.Equal("caller hung up", goodEnd.Reason);
        var (left, right) = Stereo(goodEnd.Recording!.Path);
        Assert.True(Energy(left) > 0 && Energy(right) > 0);
        Assert.Equal("caller hung up", (await bad.EndAsync()).Reason); // the bad call itself survived its garbage too
    }

    [Fact]
    public async Task A_silent_caller_is_prompted_then_the_call_ends()
    {
        var conversation = new ScriptedConversation();
        await using var call = StartCall(conversation, new CallSessionOptions { UserIdleTimeout = TimeSpan.FromSeconds(1), MaxIdlePrompts = 1 });
        await call.Caller.ListenUntilQuietAsync();
        var end = await call.EndAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("caller idle", end.Reason);
        Assert.Equal([1], conversation.Idles);
        Assert.Equal(2, call.Observer.Idles);
    }

    [Fact]
    public async Task A_browser_chat_runs_typed_turns_without_audio_or_recording()
    {
        var conversation = new ScriptedConversation();
        var transport = new MemoryTransport();
        var observer = new RecordingObserver();
        using var session = new CallSession(new CallSessionOptions { TextOnly = true, UserIdleTimeout = TimeSpan.FromMilliseconds(100) },
            new BrowserSerializer("ada"), transport, conversation, new NoAudioRecognizer(), new FliteTextToSpeech(), speech.Vad, observer,
            stream => Path.Combine(_recordings, $"{stream.ProviderCallId}.wav"), NullLogger.Instance);
        var run = Task.Run(() => session.RunAsync(CancellationToken.None));
        Send(transport, """{"event":"start","parameters":{"caller_name":"Ada"}}""");
        Send(transport, """{"event":"text","text":"  book an appointment "}""");
        transport.SendBinary(new byte[640]); // audio on a chat is ignored, not fatal
        Send(transport, """{"event":"dtmf","digit":"2"}""");
        var end = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("done", end.Reason);
        Assert.Null(end.Recording);
        Assert.Equal("ada", session.Stream!.From);
        Assert.Equal("Ada", session.Stream.Parameters["caller_name"]);
        Assert.Equal(["book an appointment"], conversation.Heard);
        Assert.Equal(['2'], conversation.Digits);
        Assert.Equal(["Please say book, or hours.", "Which day?", "We are open nine to five."], observer.AgentLines);
        Assert.Equal(0, observer.Idles); // no idle timer in a chat
        var sent = await transport.FromSession.Reader.ReadAllAsync().ToListAsync();
        Assert.DoesNotContain(sent, transport.Binary.ContainsKey);
        Assert.Empty(Directory.Exists(_recordings) ? Directory.GetFiles(_recordings) : []);
    }

    [Fact]
    public async Task A_browser_talk_call_streams_pcm16_at_16_khz_both_ways()
    {
        var conversation = new ScriptedConversation();
        var transport = new MemoryTransport();
        var observer = new RecordingObserver();
        using var session = new CallSession(new CallSessionOptions(), new BrowserSerializer("ada"), transport, conversation,
            speech.Pool.Rent(), new FliteTextToSpeech(), speech.Vad, observer,
            stream => Path.Combine(_recordings, $"{stream.ProviderCallId}.wav"), NullLogger.Instance);
        var run = Task.Run(() => session.RunAsync(CancellationToken.None));
        Send(transport, """{"event":"start"}""");

        using var utterance = FliteSynthesizer.Shared.Synthesize("book an appointment");
        short[] spoken = [.. new short[16000 * 2], .. utterance.Samples, .. new short[16000 * 3 / 2]]; // the greeting plays first
        for (var at = 0; at < spoken.Length; at += 320)
        {
            var frame = spoken.AsSpan(at, Math.Min(320, spoken.Length - at));
            transport.SendBinary(System.Runtime.InteropServices.MemoryMarshal.AsBytes(frame).ToArray());
            await Task.Delay(20);
        }
        await WaitUntilAsync(() => observer.AgentLines.Contains("Which day?"));
        Send(transport, """{"event":"stop"}""");
        var end = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["book an appointment"], conversation.Heard);
        var sent = await transport.FromSession.Reader.ReadAllAsync().ToListAsync();
        var audio = sent.Where(transport.Binary.ContainsKey).ToList();
        Assert.True(audio.Count > 50, $"{audio.Count} audio frames");
        Assert.All(audio, frame => Assert.Equal(640, frame.Length)); // 20 ms of PCM16 at 16 kHz
        Assert.Contains(sent, m => !transport.Binary.ContainsKey(m) && Encoding.UTF8.GetString(m).Contains("\"event\":\"mark\"", StringComparison.Ordinal));
        var (left, right) = Stereo(end.Recording!.Path);
        Assert.True(Energy(left) > 0 && Energy(right) > 0, "both sides are in the 16 kHz recording");
        Assert.Equal(16000, BitConverter.ToInt32(File.ReadAllBytes(end.Recording.Path), 24));
    }

    private static void Send(MemoryTransport transport, string json) => transport.ToSession.Writer.TryWrite(Encoding.UTF8.GetBytes(json));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "timed out");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_recordings))
        {
            Directory.Delete(_recordings, recursive: true);
        }
    }

    private RunningCall StartCall(ScriptedConversation conversation, CallSessionOptions? options = null, string callSid = "CA1")
    {
        var transport = new MemoryTransport();
        var observer = new RecordingObserver();
        var session = new CallSession(options ?? new CallSessionOptions(), new TwilioSerializer(), transport, conversation,
            speech.Pool.Rent(), new FliteTextToSpeech(), speech.Vad, observer,
            stream => Path.Combine(_recordings, $"{stream.ProviderCallId}.wav"), NullLogger.Instance);
        var run = Task.Run(() => session.RunAsync(CancellationToken.None));
        var caller = new TwilioCaller(transport, callSid);
        caller.Start();
        return new RunningCall(session, run, caller, observer);
    }

    /// <summary>
    /// The agent's audio as the caller received it is that line: as long as Flite makes it (within 120 ms, the
    /// frame padding and resampler tails) and at speech level. (Flite's voice is random sample by sample, so the
    /// audio is compared by its timing and level, not its samples.)
    /// </summary>
    private static void AssertSpoken(short[] heard8k, string line, string? context = null)
    {
        using var speech = FliteSynthesizer.Shared.Synthesize(line);
        var expected = speech.Duration.TotalSeconds;
        var voiced = heard8k.Length / 8000.0;
        Assert.True(Math.Abs(voiced - expected) < 0.12, $"heard {voiced:0.000} s of agent audio for a {expected:0.000} s line {context}");
        Assert.True(Energy(heard8k) > 300, $"the agent audio is too quiet ({Energy(heard8k):0})");
    }

    private static (short[] Left, short[] Right) Stereo(string path)
    {
        var samples = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(File.ReadAllBytes(path).AsSpan(44)).ToArray();
        return (samples.Where((_, i) => i % 2 == 0).ToArray(), samples.Where((_, i) => i % 2 == 1).ToArray());
    }

    private static double Energy(short[] samples) => samples.Length == 0 ? 0 : samples.Average(s => Math.Abs((double)s));

    private sealed record RunningCall(CallSession Session, Task<CallEnd> Run, TwilioCaller Caller, RecordingObserver Observer) : IAsyncDisposable
    {
        public async Task<CallEnd> EndAsync(TimeSpan? timeout = null) => await Run.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));

        public async ValueTask DisposeAsync()
        {
            if (!Run.IsCompleted)
            {
                await Caller.HangUpAsync();
                await Run.WaitAsync(TimeSpan.FromSeconds(30));
            }
            Session.Dispose();
        }
    }
}

/// <summary>The speech resources shared by the session tests (decoder pool, VAD model).</summary>
public sealed class SpeechPool : IDisposable
{
    public const string Name = "speech pool";

    public PocketSphinxPool Pool { get; } = new(PocketSphinxModel.EnglishUs);
    public VoiceActivityFactory Vad { get; } = new(TestEnvironment.VadModel);

    public void Dispose()
    {
        Pool.Dispose();
        Vad.Dispose();
    }
}

[CollectionDefinition(SpeechPool.Name)]
public sealed class SpeechPoolGroup : ICollectionFixture<SpeechPool>;

/// <summary>Greets, answers "book an appointment" and digit 2, hangs up after the digit; a test double of the flow runtime.</summary>
internal sealed class ScriptedConversation : IConversation
{
    public string Greeting { get; init; } = "Please say book, or hours.";
    public bool AllowInterrupt { get; init; } = true;
    public ConcurrentQueue<string> Heard { get; } = new();
    public ConcurrentQueue<char> Digits { get; } = new();
    public ConcurrentQueue<string> Interruptions { get; } = new();
    public ConcurrentQueue<int> Idles { get; } = new();

    public IReadOnlyList<string>? ExpectedPhrases => ["book an appointment", "opening hours"];

    public IAsyncEnumerable<ConversationOutput> StartAsync(CancellationToken cancellationToken) => Reply(new Say(Greeting));

    public IAsyncEnumerable<ConversationOutput> UserSpokeAsync(string text, CancellationToken cancellationToken)
    {
        Heard.Enqueue(text);
        return Reply(new Say(text == "book an appointment" ? "Which day?" : "Sorry?"));
    }

    public IAsyncEnumerable<ConversationOutput> DtmfAsync(char digit, CancellationToken cancellationToken)
    {
        Digits.Enqueue(digit);
        return Reply(new Say("We are open nine to five."), new HangUp("done"));
    }

    public IAsyncEnumerable<ConversationOutput> UserIdleAsync(int times, CancellationToken cancellationToken)
    {
        Idles.Enqueue(times);
        return Reply(new Say("Sorry?"));
    }

    public void Interrupted(string spoken) => Interruptions.Enqueue(spoken);

    private static async IAsyncEnumerable<ConversationOutput> Reply(params ConversationOutput[] outputs)
    {
        foreach (var output in outputs)
        {
            await Task.Yield();
            yield return output;
        }
    }
}

internal sealed class RecordingObserver : ICallObserver
{
    public ConcurrentQueue<string> UserTurns { get; } = new();
    public ConcurrentQueue<string> AgentLines { get; } = new();
    public ConcurrentQueue<string> Interruptions { get; } = new();
    public ConcurrentQueue<TurnLatency> Turns { get; } = new();
    public ConcurrentQueue<double> Greetings { get; } = new();
    public int Idles;

    public void Started(StreamInfo stream)
    {
    }

    public void UserSpoke(string text, TimeSpan at) => UserTurns.Enqueue(text);
    public void AgentSpoke(string text, TimeSpan at) => AgentLines.Enqueue(text);
    public void Interrupted(string spoken, TimeSpan at) => Interruptions.Enqueue(spoken);
    public void Dtmf(char digit, TimeSpan at)
    {
    }

    public void UserIdle(int times, TimeSpan at) => Interlocked.Increment(ref Idles);
    public void TurnMeasured(TurnLatency latency) => Turns.Enqueue(latency);
    public void GreetingMeasured(double firstAudioMs) => Greetings.Enqueue(firstAudioMs);
    public void Traced(Trace trace)
    {
    }

    public void Ended(CallEnd end)
    {
    }
}

/// <summary>Both ends of a message pipe: the session's transport and the test caller's socket.</summary>
internal sealed class MemoryTransport : ICallTransport
{
    public Channel<byte[]> ToSession { get; } = Channel.CreateUnbounded<byte[]>();
    public Channel<byte[]> FromSession { get; } = Channel.CreateUnbounded<byte[]>();

    /// <summary>Messages sent as binary (the browser protocol's audio); all others are text.</summary>
    public ConcurrentDictionary<byte[], bool> Binary { get; } = new(ReferenceEqualityComparer.Instance);

    public async ValueTask<TransportMessage> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (await ToSession.Reader.WaitToReadAsync(cancellationToken))
        {
            if (ToSession.Reader.TryRead(out var message))
            {
                if (message.Length > buffer.Length)
                {
                    continue; // a real socket closes or skips oversized frames; the session never sees them
                }
                message.CopyTo(buffer);
                return new TransportMessage(message.Length, Binary.ContainsKey(message));
            }
        }
        return TransportMessage.Closed;
    }

    public void SendBinary(byte[] message)
    {
        Binary[message] = true;
        ToSession.Writer.TryWrite(message);
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, bool binary, CancellationToken cancellationToken)
    {
        var copy = message.ToArray();
        if (binary)
        {
            Binary[copy] = true;
        }
        FromSession.Writer.TryWrite(copy);
        return ValueTask.CompletedTask;
    }

    public ValueTask CloseAsync(string reason)
    {
        FromSession.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A caller as Twilio would stream it: μ-law 8 kHz in 20 ms media messages, in real time.</summary>
internal sealed class TwilioCaller(MemoryTransport transport, string callSid = "CA1")
{
    private readonly ConcurrentQueue<short> _heard = new();
    private DateTime _lastAudio = DateTime.MinValue;
    private int _frames;

    public ConcurrentQueue<string> Marks { get; } = new();
    public bool Cleared { get; private set; }

    public void Start()
    {
        Send("""{"event":"connected","protocol":"Call","version":"1.0.0"}""");
        Send($$$"""{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"{{{callSid}}}","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"from":"+15550001111"}},"streamSid":"MZ1"}""");
        _ = Task.Run(ListenAsync);
    }

    public Task SendRawAsync(string message)
    {
        Send(message);
        return Task.CompletedTask;
    }

    /// <summary>Speaks <paramref name="text"/> (Flite, 8 kHz μ-law) in real time, then 1.2 s of silence.</summary>
    public async Task SayAsync(string text)
    {
        using var speech = FliteSynthesizer.Shared.Synthesize(text);
        await StreamAsync([.. PhoneAudio.Narrowband(speech.Samples), .. new short[8000 * 12 / 10]]);
    }

    public Task PressAsync(char digit)
    {
        Send($$$"""{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"9","dtmf":{"track":"inbound_track","digit":"{{{digit}}}"}}""");
        return Task.CompletedTask;
    }

    public Task HangUpAsync()
    {
        Send("""{"event":"stop","sequenceNumber":"99","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}""");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Keeps sending silence until the agent has spoken and then been quiet for 600 ms; returns all it said since
    /// the previous listen (a reply may begin while the caller is still sending its trailing silence).
    /// </summary>
    public async Task<short[]> ListenUntilQuietAsync()
    {
        var started = DateTime.UtcNow;
        var spoke = false;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(20))
        {
            await StreamAsync(new short[160]);
            spoke |= !_heard.IsEmpty;
            if (spoke && DateTime.UtcNow - _lastAudio > TimeSpan.FromMilliseconds(600))
            {
                break;
            }
        }
        var heard = new List<short>();
        while (_heard.TryDequeue(out var sample))
        {
            heard.Add(sample);
        }
        return [.. heard];
    }

    public async Task WaitForAgentAudioAsync(TimeSpan howMuch)
    {
        var target = _frames + (int)(howMuch.TotalMilliseconds / 20);
        var started = DateTime.UtcNow;
        while (_frames < target && DateTime.UtcNow - started < TimeSpan.FromSeconds(20))
        {
            await StreamAsync(new short[160]);
        }
    }

    public async Task<bool> WaitForClearAsync()
    {
        var started = DateTime.UtcNow;
        while (!Cleared && DateTime.UtcNow - started < TimeSpan.FromSeconds(5))
        {
            await StreamAsync(new short[160]);
        }
        return Cleared;
    }

    private async Task StreamAsync(short[] samples)
    {
        var frame = new byte[160];
        var next = DateTime.UtcNow;
        for (var offset = 0; offset < samples.Length; offset += 160)
        {
            var count = Math.Min(160, samples.Length - offset);
            MuLaw.Encode(samples.AsSpan(offset, count), frame);
            Send($$$"""{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"{{{Convert.ToBase64String(frame, 0, count)}}}"},"streamSid":"MZ1"}""");
            next += TimeSpan.FromMilliseconds(20);
            var wait = next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }
    }

    private async Task ListenAsync()
    {
        var decoded = new short[8000];
        await foreach (var message in transport.FromSession.Reader.ReadAllAsync())
        {
            using var json = JsonDocument.Parse(message);
            switch (json.RootElement.GetProperty("event").GetString())
            {
                case "media":
                    var payload = Convert.FromBase64String(json.RootElement.GetProperty("media").GetProperty("payload").GetString()!);
                    MuLaw.Decode(payload, decoded);
                    foreach (var sample in decoded.AsSpan(0, payload.Length))
                    {
                        _heard.Enqueue(sample);
                    }
                    _lastAudio = DateTime.UtcNow;
                    Interlocked.Increment(ref _frames);
                    break;
                case "mark":
                    Marks.Enqueue(json.RootElement.GetProperty("mark").GetProperty("name").GetString()!);
                    break;
                case "clear":
                    Cleared = true;
                    break;
            }
        }
    }

    private void Send(string message) => transport.ToSession.Writer.TryWrite(Encoding.UTF8.GetBytes(message));
}
