using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceStudio.Media.Audio;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Flite;
using VoiceStudio.Media.Speech.PocketSphinx;
using VoiceStudio.Media.Telephony.Twilio;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.Benchmarks;

/// <summary>
/// N simulated Twilio calls through real call sessions in one process, for a fixed time. Every caller speaks a
/// Flite utterance (8 kHz μ-law, paced at 20 ms by one shared clock) then stays silent for 3 s, over and over; the
/// agent answers each turn with one sentence. Measures outbound pacing (interval between a call's consecutive
/// media messages while the agent speaks), turn and greeting latency, CPU and memory.
/// </summary>
public static class SessionBenchmark
{
    public static async Task<string> RunAsync(int calls, TimeSpan duration, bool embedded, string vadModel)
    {
        using var speechLine = FliteSynthesizer.Shared.Synthesize("I would like to book an appointment please.");
        var utterance = PhoneAudio.MuLaw8k(speechLine.Samples);
        var silence = new byte[160 * 150]; // 3 s
        Array.Fill(silence, (byte)0xFF);
        byte[] script = [.. utterance, .. silence];

        using var vad = new VoiceActivityFactory(vadModel);
        using var pool = new PocketSphinxPool(PocketSphinxModel.EnglishUs);
        if (embedded)
        {
            pool.Warm(calls);
        }
        ITextToSpeech tts = embedded ? new CachingTextToSpeech(new FliteTextToSpeech()) : new InstantTextToSpeech();
        var stats = new Stats();
        var sessions = new List<(CallSession Session, Task<CallEnd> Run, BenchTransport Transport)>();
        var recordings = Path.Combine(Path.GetTempPath(), "vs-bench", Guid.NewGuid().ToString("N"));

        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(true);
        for (var i = 0; i < calls; i++)
        {
            var transport = new BenchTransport(stats);
            var session = new CallSession(new CallSessionOptions(), new TwilioSerializer(), transport, new EchoConversation(),
                embedded ? pool.Rent() : new InstantRecognizer(), tts, vad, new BenchObserver(stats),
                s => Path.Combine(recordings, $"{s.ProviderCallId}.wav"), NullLogger.Instance);
            sessions.Add((session, Task.Run(() => session.RunAsync(CancellationToken.None)), transport));
            transport.Send($$$"""{"event":"start","start":{"accountSid":"AC","streamSid":"MZ{{{i}}}","callSid":"CA{{{i}}}","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000}},"streamSid":"MZ{{{i}}}"}""");
        }

        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var frames = duration.Ticks / TimeSpan.FromMilliseconds(20).Ticks;
        var lateTicks = 0;
        var payload = new StringBuilder();
        for (long n = 0; n < frames; n++)
        {
            for (var c = 0; c < sessions.Count; c++)
            {
                var offset = (int)((n + c * 7) * 160 % script.Length); // callers out of phase
                var frame = Convert.ToBase64String(script, offset, Math.Min(160, script.Length - offset));
                sessions[c].Transport.Send($$$"""{"event":"media","media":{"payload":"{{{frame}}}"},"streamSid":"MZ{{{c}}}"}""");
            }
            var next = TimeSpan.FromMilliseconds(20 * (n + 1));
            var wait = next - wall.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            else
            {
                lateTicks++;
            }
        }
        var elapsed = wall.Elapsed;
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var memoryDuring = GC.GetTotalMemory(false);
        var workingSet = Process.GetCurrentProcess().WorkingSet64;

        foreach (var (_, _, transport) in sessions)
        {
            transport.Send("""{"event":"stop"}""");
        }
        await Task.WhenAll(sessions.Select(s => s.Run));
        foreach (var (session, _, _) in sessions)
        {
            session.Dispose();
        }
        Directory.Delete(recordings, recursive: true);

        var intervals = stats.Intervals.ToArray();
        var late = intervals.Count(i => i > 40);
        var jitter = intervals.Select(i => Math.Abs(i - 20)).ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"""
            calls: {calls} ({(embedded ? "embedded PocketSphinx + Flite" : "instant stub STT/TTS")}, Silero VAD {(vad.UsesSilero ? "on" : "OFF")}), {elapsed.TotalSeconds:0.0} s
            caller clock: {lateTicks} of {frames} ticks late
            agent frames sent: {intervals.Length + stats.Bursts}, pacing |interval − 20 ms| p50 {P(jitter, 50):0.0} ms, p99 {P(jitter, 99):0.0} ms, max {jitter.DefaultIfEmpty().Max():0.0} ms; gaps over 40 ms: {late}
            turns: {stats.Turns.Count}, first audio after VAD stop p50 {P([.. stats.Turns.Select(t => t.FirstAudioSentMs)], 50):0} ms, p95 {P([.. stats.Turns.Select(t => t.FirstAudioSentMs)], 95):0} ms, p99 {P([.. stats.Turns.Select(t => t.FirstAudioSentMs)], 99):0} ms
              of which STT final p50 {P([.. stats.Turns.Select(t => t.SttFinalMs)], 50):0.0} ms, first TTS audio p50 {P([.. stats.Turns.Select(t => t.FirstTtsAudioMs)], 50):0.0} ms
            greeting (stream start → first audio frame): p50 {P([.. stats.Greetings], 50):0} ms, p95 {P([.. stats.Greetings], 95):0} ms
            CPU: {cpu / elapsed.TotalSeconds * 100:0}% of one core in all ({cpu / elapsed.TotalSeconds * 100 / calls:0.00}% per call; 2 cores = 200%)
            memory: managed heap +{(memoryDuring - memoryBefore) / 1048576.0 / calls:0.00} MiB per call, working set {workingSet / 1048576.0:0} MiB
            """);
    }

    private static double P(double[] values, int percentile)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }
        Array.Sort(values);
        return values[Math.Min(values.Length - 1, (int)Math.Ceiling(percentile / 100.0 * values.Length) - 1)];
    }

    private sealed class Stats
    {
        public ConcurrentQueue<double> Intervals { get; } = new();
        public ConcurrentQueue<TurnLatency> Turns { get; } = new();
        public ConcurrentQueue<double> Greetings { get; } = new();
        public int Bursts;
    }

    private sealed class BenchTransport(Stats stats) : ICallTransport
    {
        private readonly Channel<byte[]> _in = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        private long _lastMedia;

        public void Send(string message) => _in.Writer.TryWrite(Encoding.UTF8.GetBytes(message));

        public async ValueTask<TransportMessage> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (await _in.Reader.WaitToReadAsync(cancellationToken))
            {
                if (_in.Reader.TryRead(out var message))
                {
                    message.CopyTo(buffer);
                    return new TransportMessage(message.Length);
                }
            }
            return TransportMessage.Closed;
        }

        public ValueTask SendAsync(ReadOnlyMemory<byte> message, bool binary, CancellationToken cancellationToken)
        {
            if (message.Span.IndexOf("\"media\""u8) >= 0)
            {
                var now = Stopwatch.GetTimestamp();
                var gap = _lastMedia == 0 ? double.MaxValue : Stopwatch.GetElapsedTime(_lastMedia, now).TotalMilliseconds;
                if (gap < 200)
                {
                    stats.Intervals.Enqueue(gap); // within one stretch of agent speech
                }
                else
                {
                    Interlocked.Increment(ref stats.Bursts);
                }
                _lastMedia = now;
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask CloseAsync(string reason) => ValueTask.CompletedTask;
    }

    private sealed class BenchObserver(Stats stats) : ICallObserver
    {
        public void Started(StreamInfo stream)
        {
        }

        public void UserSpoke(string text, TimeSpan at)
        {
        }

        public void AgentSpoke(string text, TimeSpan at)
        {
        }

        public void Interrupted(string spoken, TimeSpan at)
        {
        }

        public void Dtmf(char digit, TimeSpan at)
        {
        }

        public void UserIdle(int times, TimeSpan at)
        {
        }

        public void TurnMeasured(TurnLatency latency) => stats.Turns.Enqueue(latency);

        public void GreetingMeasured(double firstAudioMs) => stats.Greetings.Enqueue(firstAudioMs);

        public void Traced(VoiceStudio.Media.Calls.Trace trace)
        {
        }

        public void Ended(CallEnd end)
        {
        }
    }

    /// <summary>Answers every turn with one short sentence; never lets the caller interrupt (the script talks over it).</summary>
    private sealed class EchoConversation : IConversation
    {
        public IReadOnlyList<string>? ExpectedPhrases => ["book an appointment", "opening hours"];

        public bool AllowInterrupt => false;

        public IAsyncEnumerable<ConversationOutput> StartAsync(CancellationToken cancellationToken) => One("Hello, how can I help?");

        public IAsyncEnumerable<ConversationOutput> UserSpokeAsync(string text, CancellationToken cancellationToken) => One("Okay, which day?");

        public IAsyncEnumerable<ConversationOutput> DtmfAsync(char digit, CancellationToken cancellationToken) => One("Okay.");

        public IAsyncEnumerable<ConversationOutput> UserIdleAsync(int times, CancellationToken cancellationToken) => One("Are you there?");

        public void Interrupted(string spoken)
        {
        }

        private static async IAsyncEnumerable<ConversationOutput> One(string text)
        {
            await Task.CompletedTask;
            yield return new Say(text);
        }
    }

    /// <summary>Stub STT: nothing to compute, a fixed answer.</summary>
    private sealed class InstantRecognizer : ISpeechRecognizer
    {
        public void ExpectPhrases(IReadOnlyList<string>? phrases)
        {
        }

        public void StartUtterance()
        {
        }

        public void Feed(ReadOnlySpan<short> samples16k)
        {
        }

        public string Partial() => "";

        public ValueTask<string> FinishUtteranceAsync() => ValueTask.FromResult("book an appointment");

        public void Dispose()
        {
        }
    }

    /// <summary>Stub TTS: one second of a 440 Hz tone, at once.</summary>
    private sealed class InstantTextToSpeech : ITextToSpeech
    {
        private static readonly short[] Tone = Enumerable.Range(0, 16000).Select(i => (short)(6000 * Math.Sin(2 * Math.PI * 440 * i / 16000))).ToArray();

        public int SampleRate => 16000;

        public Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken)
        {
            var buffer = System.Buffers.ArrayPool<short>.Shared.Rent(Tone.Length);
            Tone.CopyTo(buffer, 0);
            return Task.FromResult(new SynthesizedAudio(System.Buffers.ArrayPool<short>.Shared, buffer, Tone.Length, 16000));
        }
    }
}
