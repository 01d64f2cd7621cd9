using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using VoiceStudio.Media.Audio;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Simulation;
using VoiceStudio.Media.Speech.Flite;
using VoiceStudio.Media.Speech.PocketSphinx;

namespace VoiceStudio.Tests.Benchmarks;

/// <summary>
/// The overhead ratio of ARCHITECTURE.md: CPU the whole server spends per call ÷ CPU of the bare speech work of that
/// call run in a loop. The numerator comes from real calls: N simulated callers book with the demo agent through the
/// running server while its process CPU (/proc/PID/stat) is read before and after. The denominator replays each
/// call's audio here, single-threaded: the caller's μ-law frames decoded, resampled to 16 kHz, through Silero and
/// PocketSphinx (the turn's phrases), and every line the agent said (read from the call's stored transcript)
/// synthesized with Flite, resampled to 8 kHz and μ-law encoded, with no cache.
/// </summary>
public static class OverheadBenchmark
{
    public static async Task<string> RunAsync(Uri server, int pid, int calls, string databaseUrl, string vadPath)
    {
        var script = CallerScript.Parse(CallerScript.DemoBooking);
        var before = ProcessCpuSeconds(pid);
        var started = Stopwatch.StartNew();
        using var http = new HttpClient();
        var results = await Task.WhenAll(Enumerable.Range(0, calls).Select(_ => SimulatedCaller.RunAsync(server, "twilio", "demo", script,
            new SimulatedCallerOptions { Transcribe = false, MaxCallDuration = TimeSpan.FromSeconds(120) }, null, http, CancellationToken.None)));
        await Task.Delay(TimeSpan.FromSeconds(2)); // the call rows and recordings are finished after the sockets close
        var serverCpu = ProcessCpuSeconds(pid) - before;
        var wall = started.Elapsed.TotalSeconds - 2;

        var agentLines = new List<IReadOnlyList<string>>();
        await using (var db = NpgsqlDataSource.Create(Web.Configuration.ConnectionStrings.PostgreSql(databaseUrl)))
        {
            foreach (var result in results)
            {
                await using var command = db.CreateCommand("SELECT transcript::text FROM calls WHERE id = $1");
                command.Parameters.AddWithValue(Guid.Parse(result.CallId!));
                using var transcript = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!);
                agentLines.Add([.. transcript.RootElement.EnumerateArray().Where(e => e.GetProperty("speaker").GetString() == "agent").Select(e => e.GetProperty("text").GetString()!)]);
            }
        }

        using var vad = new VoiceActivityFactory(vadPath);
        using var decoder = new PocketSphinxDecoder(PocketSphinxModel.EnglishUs);
        var phrases = script.OfType<CallerStep.Say>().Select(s => s.Text).ToList();
        decoder.UsePhrases(phrases);
        BareCall(results[0], script, agentLines[0], vad, decoder); // warm up: JIT, grammar compile, Flite voice
        double listen = 0, speak = 0;
        for (var i = 0; i < results.Length; i++)
        {
            var (l, s) = BareCall(results[i], script, agentLines[i], vad, decoder);
            listen += l;
            speak += s;
        }
        var perCall = serverCpu / calls;
        var bare = (listen + speak) / calls;
        var bareListen = listen / calls;
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"overhead ratio, {calls} demo booking calls at once through {server} (server pid {pid}), {DateTime.UtcNow:u}")
            .AppendLine(CultureInfo.InvariantCulture, $"  calls completed            {results.Count(r => r.Ended.StartsWith("agent closed", StringComparison.Ordinal))}/{calls} in {wall:0.0} s; {results.Average(r => r.MediaFramesSent) * 0.02:0.0} s of caller audio per call; {agentLines.Average(l => l.Count):0.0} agent lines per call")
            .AppendLine(CultureInfo.InvariantCulture, $"  server CPU per call        {perCall * 1000:0} ms ({100 * perCall / (wall > 0 ? wall : 1):0.0} % of a core while it ran)")
            .AppendLine(CultureInfo.InvariantCulture, $"  bare work per call         {bare * 1000:0} ms (decode + resample + VAD + STT {bareListen * 1000:0} ms, TTS + resample + encode {(bare - bareListen) * 1000:0} ms)")
            .AppendLine(CultureInfo.InvariantCulture, $"  overhead ratio             {perCall / bare:0.00} (server ÷ bare work with uncached TTS)")
            .AppendLine(CultureInfo.InvariantCulture, $"  ratio against listening    {perCall / bareListen:0.00} (server ÷ bare work without TTS: the server's sentence cache makes repeated lines nearly free)");
        return report.ToString();
    }

    /// <summary>One call's bare speech work; returns the CPU seconds of the listening half and of the speaking half.</summary>
    private static (double Listen, double Speak) BareCall(SimulatedCallResult call, IReadOnlyList<CallerStep> script, IReadOnlyList<string> agentLines,
        VoiceActivityFactory vad, PocketSphinxDecoder decoder)
    {
        // The caller's line as it went out: each utterance, then silence up to the frames the caller sent.
        var audio = new List<short>();
        foreach (var say in script.OfType<CallerStep.Say>())
        {
            audio.AddRange(new short[8000 * 3]);
            audio.AddRange(SimulatedCaller.PhoneSpeech(say.Text));
        }
        audio.AddRange(new short[Math.Max(0, call.MediaFramesSent * 160 - audio.Count)]);
        var mulaw = new byte[audio.Count];
        MuLaw.Encode(audio.ToArray(), mulaw);

        var cpu = Process.GetCurrentProcess();
        var start = cpu.TotalProcessorTime;
        using (var detector = new TurnDetector(vad.Create(8000), new VadSettings()))
        using (var upsample = new Resampler(8000, 16000))
        {
            var pcm = new short[160];
            var wide = new short[upsample.MaxOutputLength(160)];
            var speaking = false;
            for (var at = 0; at + 160 <= mulaw.Length; at += 160)
            {
                MuLaw.Decode(mulaw.AsSpan(at, 160), pcm);
                var count = upsample.Process(pcm, wide);
                var speech = detector.Process(pcm);
                if (speech == SpeechEvent.Started)
                {
                    speaking = true;
                    decoder.StartUtterance();
                }
                if (speaking)
                {
                    decoder.Process(wide.AsSpan(0, count));
                }
                if (speech == SpeechEvent.Stopped && speaking)
                {
                    speaking = false;
                    decoder.EndUtterance();
                }
            }
            if (speaking)
            {
                decoder.EndUtterance();
            }
        }
        cpu.Refresh();
        var listened = cpu.TotalProcessorTime;
        foreach (var line in agentLines)
        {
            using var speech = FliteSynthesizer.Shared.Synthesize(line);
            using var narrow = new Resampler(speech.SampleRate, 8000);
            var converted = new short[narrow.MaxOutputLength(speech.Samples.Length) + 1024];
            var count = narrow.Process(speech.Samples, converted);
            count += narrow.Flush(converted.AsSpan(count));
            var encoded = new byte[160];
            for (var at = 0; at + 160 <= count; at += 160)
            {
                MuLaw.Encode(converted.AsSpan(at, 160), encoded);
            }
        }
        cpu.Refresh();
        return ((listened - start).TotalSeconds, (cpu.TotalProcessorTime - listened).TotalSeconds);
    }

    /// <summary>User plus system CPU seconds of a process, from /proc/PID/stat.</summary>
    private static double ProcessCpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime, stime
        return ticks / 100.0; // USER_HZ
    }
}
