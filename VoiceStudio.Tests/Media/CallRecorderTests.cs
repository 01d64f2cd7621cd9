using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using VoiceStudio.Media.Recording;
using VoiceStudio.Web.Features.Recordings;

namespace VoiceStudio.Tests.Media;

public sealed class CallRecorderTests : IDisposable
{
    private const int Rate = 8000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vs-recorder-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Caller_is_left_agent_is_right_each_where_it_was_heard()
    {
        var path = Path.Combine(_dir, "aligned.wav");
        var recorder = CallRecorder.Start(path, Rate);
        var caller = Filled(160, 1000);
        var agent = Filled(Rate / 2, -2000);
        for (var frame = 0; frame < 150; frame++) // 3 s of 20 ms frames
        {
            recorder.WriteCaller(caller);
            if (frame == 60) // at 1.2 s the agent's audio that was played from 1.0 s arrives (200 ms late)
            {
                recorder.WriteAgent(agent, atSample: Rate);
            }
        }
        var info = await recorder.CompleteAsync();

        Assert.Equal(3.0, info.DurationSeconds, precision: 3);
        Assert.Equal(0, info.LateAgentSamples);
        Assert.Equal(3.0, SoxDuration(path), precision: 2);
        var (left, right) = ReadStereo(path);
        Assert.All(left, s => Assert.Equal(1000, s));
        Assert.All(right[..Rate], s => Assert.Equal(0, s));
        Assert.All(right[Rate..(Rate + Rate / 2)], s => Assert.Equal(-2000, s));
        Assert.All(right[(Rate + Rate / 2)..], s => Assert.Equal(0, s));
    }

    [Fact]
    public async Task Agent_audio_too_late_for_its_place_is_left_out_not_misplaced()
    {
        var path = Path.Combine(_dir, "late.wav");
        var recorder = CallRecorder.Start(path, Rate, latency: TimeSpan.FromMilliseconds(500));
        for (var frame = 0; frame < 100; frame++)
        {
            recorder.WriteCaller(Filled(160, 10));
        }
        recorder.WriteAgent(Filled(Rate, 500), atSample: 0); // played 0–1 s, reported at 2 s: only 1.5 s onwards can still land
        var info = await recorder.CompleteAsync();
        Assert.Equal(Rate, info.LateAgentSamples);
        var (_, right) = ReadStereo(path);
        Assert.All(right, s => Assert.Equal(0, s));
    }

    [Fact]
    public async Task Agent_audio_after_the_caller_hung_up_is_kept()
    {
        var path = Path.Combine(_dir, "tail.wav");
        var recorder = CallRecorder.Start(path, Rate);
        recorder.WriteCaller(Filled(Rate, 1));
        recorder.WriteAgent(Filled(Rate, 7), atSample: Rate / 2);
        var info = await recorder.CompleteAsync();
        Assert.Equal(1.5, info.DurationSeconds, precision: 3);
        var (left, right) = ReadStereo(path);
        Assert.Equal(Rate / 2, right.Count(s => s == 0));
        Assert.Equal(Rate, left.Count(s => s == 1));
    }

    [Fact]
    public async Task While_the_call_runs_the_file_on_disk_is_already_a_playable_wav()
    {
        var path = Path.Combine(_dir, "live.wav");
        var recorder = CallRecorder.Start(path, Rate, latency: TimeSpan.FromMilliseconds(200));
        for (var frame = 0; frame < 200; frame++) // 4 s
        {
            recorder.WriteCaller(Filled(160, 300));
        }
        // The writer refreshes the header each second of audio; wait until at least 3 s are on disk.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DurationSoFar(path) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.InRange(SoxDuration(path), 3.0, 4.0);
        await recorder.CompleteAsync();
        Assert.Equal(4.0, SoxDuration(path), precision: 2);
    }

    [Fact]
    public void A_file_left_by_a_crash_is_repaired_to_its_whole_frames()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "crashed.wav");
        var header = new byte[WavFile.HeaderBytes];
        WavFile.WriteHeader(header, Rate, 2, dataBytes: 4 * Rate); // header last refreshed at 1 s
        var audio = new byte[(int)(2.5 * Rate) * 4 + 3];           // 2.5 s of frames and a torn one
        File.WriteAllBytes(path, [.. header, .. audio]);
        File.WriteAllBytes(Path.Combine(_dir, "fine.wav"), [.. Header(Rate, 4 * Rate), .. new byte[4 * Rate]]);
        File.WriteAllText(Path.Combine(_dir, "notes.wav"), "not a wav at all, leave me alone");

        var repaired = WavFile.RepairAll(_dir);

        Assert.Equal([path], repaired);
        Assert.Equal(WavFile.HeaderBytes + (int)(2.5 * Rate) * 4, new FileInfo(path).Length);
        Assert.Equal(2.5, SoxDuration(path), precision: 2);
        Assert.Empty(WavFile.RepairAll(_dir));
    }

    [Fact]
    public async Task Recordings_convert_to_mp3_for_download()
    {
        var wav = Path.Combine(_dir, "call.wav");
        var recorder = CallRecorder.Start(wav, Rate);
        var tone = Enumerable.Range(0, 160).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / Rate))).ToArray();
        for (var frame = 0; frame < 100; frame++)
        {
            recorder.WriteCaller(tone);
        }
        await recorder.CompleteAsync();
        var mp3 = Path.ChangeExtension(wav, ".mp3");
        await RecordingTranscoder.ToMp3Async(wav, mp3);
        Assert.InRange(ProbeDuration(mp3), 1.9, 2.2);
        Assert.Contains("stereo", Run("ffprobe", "-v", "error", "-show_entries", "stream=channel_layout", "-of", "csv=p=0", mp3), StringComparison.Ordinal);
        await Assert.ThrowsAsync<FileNotFoundException>(() => RecordingTranscoder.ToMp3Async(Path.Combine(_dir, "missing.wav"), mp3 + ".x.mp3"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "garbage.wav"), "not audio");
        await Assert.ThrowsAsync<InvalidOperationException>(() => RecordingTranscoder.ToMp3Async(Path.Combine(_dir, "garbage.wav"), mp3 + ".y.mp3"));
    }

    [Fact]
    public async Task Recording_a_frame_allocates_nothing()
    {
        var recorder = CallRecorder.Start(Path.Combine(_dir, "alloc.wav"), Rate);
        var frame = Filled(160, 5);
        for (var i = 0; i < 200; i++)
        {
            recorder.WriteCaller(frame);
            recorder.WriteAgent(frame, recorder.CallerPosition);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            recorder.WriteCaller(frame);
            recorder.WriteAgent(frame, recorder.CallerPosition);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        await recorder.CompleteAsync();
        Assert.True(allocated == 0, $"{allocated} bytes over 1000 frames");
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static short[] Filled(int length, short value) => Enumerable.Repeat(value, length).ToArray();

    private static byte[] Header(int rate, int dataBytes)
    {
        var header = new byte[WavFile.HeaderBytes];
        WavFile.WriteHeader(header, rate, 2, dataBytes);
        return header;
    }

    private static (short[] Left, short[] Right) ReadStereo(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var samples = MemoryMarshal.Cast<byte, short>(bytes.AsSpan(WavFile.HeaderBytes)).ToArray();
        return (samples.Where((_, i) => i % 2 == 0).ToArray(), samples.Where((_, i) => i % 2 == 1).ToArray());
    }

    /// <summary>The duration sox reads now, or 0 while the writer has not put the header down yet.</summary>
    private static double DurationSoFar(string path)
    {
        try
        {
            return SoxDuration(path);
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }

    private static double SoxDuration(string path) =>
        double.Parse(Run("soxi", "-D", path), CultureInfo.InvariantCulture);

    private static double ProbeDuration(string path) =>
        double.Parse(Run("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path), CultureInfo.InvariantCulture);

    private static string Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{tool} failed: {process.StandardError.ReadToEnd()}");
    }
}
