using System.Buffers.Binary;
using VoiceStudio.Media.Recording;

namespace VoiceStudio.Tests.Media;

/// <summary>The recording's outline drawn on the call page: peaks per side, read from the file the recorder writes.</summary>
public sealed class WaveformPeaksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vs-wave-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Stereo 8 kHz: the caller (left) speaks at half scale in the first second, the agent (right) at full scale in the third.</summary>
    private string Write(long declaredBytes, int extraBytes = 0)
    {
        const int rate = 8000;
        var frames = 3 * rate;
        var bytes = new byte[WavFile.HeaderBytes + frames * 4 + extraBytes];
        WavFile.WriteHeader(bytes, rate, 2, declaredBytes);
        for (var i = 0; i < frames; i++)
        {
            var left = i < rate ? (short)(16384 * Math.Sin(i * 0.3)) : (short)0;
            var right = i >= 2 * rate ? (short)(32767 * Math.Sin(i * 0.2)) : (short)0;
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(WavFile.HeaderBytes + i * 4), left);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(WavFile.HeaderBytes + i * 4 + 2), right);
        }
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.wav");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public async Task Each_side_is_loud_where_it_spoke_and_silent_elsewhere()
    {
        var wave = (await WaveformPeaks.ReadAsync(Write(3 * 8000 * 4), 30, CancellationToken.None))!;
        Assert.Equal(8000, wave.SampleRate);
        Assert.Equal(3.0, wave.DurationSeconds, 3);
        Assert.Equal(2, wave.Peaks.Length);
        var caller = wave.Peaks[0];
        var agent = wave.Peaks[1];
        Assert.All(caller[..10], p => Assert.InRange(p, 0.45f, 0.51f));
        Assert.All(caller[10..], p => Assert.Equal(0f, p));
        Assert.All(agent[..20], p => Assert.Equal(0f, p));
        Assert.All(agent[20..], p => Assert.InRange(p, 0.95f, 1f));
    }

    [Fact]
    public async Task A_recording_still_being_written_counts_the_frames_on_disk_and_ignores_a_torn_one()
    {
        var wave = (await WaveformPeaks.ReadAsync(Write(declaredBytes: 0, extraBytes: 3), 3, CancellationToken.None))!;
        Assert.Equal(3.0, wave.DurationSeconds, 3);
        Assert.True(wave.Peaks[1][2] > 0.9f);
    }

    [Fact]
    public async Task A_file_that_is_not_our_wav_gives_no_waveform()
    {
        var path = Path.Combine(_dir, "notes.wav");
        await File.WriteAllTextAsync(path, "these are not the samples you are looking for, not at all, no");
        Assert.Null(await WaveformPeaks.ReadAsync(path, 10, CancellationToken.None));
    }
}
