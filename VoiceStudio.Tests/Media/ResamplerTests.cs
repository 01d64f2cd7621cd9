using VoiceStudio.Media.Audio;

namespace VoiceStudio.Tests.Media;

public sealed class ResamplerTests
{
    private const double Amplitude = 10_000;

    [Theory]
    [InlineData(16000, 8000, 1000, 1.0)]
    [InlineData(16000, 8000, 7000, 0.0)]
    [InlineData(16000, 8000, 3400, 1.0)]
    [InlineData(8000, 16000, 1000, 1.0)]
    [InlineData(8000, 48000, 1000, 1.0)]
    [InlineData(48000, 8000, 1000, 1.0)]
    [InlineData(48000, 8000, 6000, 0.0)]
    [InlineData(24000, 16000, 2000, 1.0)]
    [InlineData(24000, 16000, 10000, 0.0)]
    [InlineData(16000, 24000, 5000, 1.0)]
    public void Passes_tones_below_the_new_nyquist_and_removes_those_above(int from, int to, int frequency, double expectedGain)
    {
        var output = ResampleTone(from, to, frequency, seconds: 1.0);
        var settled = output.AsSpan(to / 10, output.Length - to / 5); // skip 100 ms at each end (filter delay)
        var gain = Rms(settled) / (Amplitude / Math.Sqrt(2));
        if (expectedGain > 0)
        {
            Assert.InRange(gain, 0.95, 1.05);
            Assert.InRange(DominantFrequency(settled, to), frequency - 20, frequency + 20);
        }
        else
        {
            Assert.True(gain < 0.01, $"a {frequency} Hz tone should be removed going {from}→{to} Hz (−40 dB), but kept {20 * Math.Log10(gain):0.0} dB");
        }
    }

    [Theory]
    [InlineData(8000, 16000)]
    [InlineData(16000, 8000)]
    [InlineData(24000, 8000)]
    [InlineData(48000, 16000)]
    public void Output_length_matches_the_rate_ratio_after_a_flush(int from, int to)
    {
        var output = ResampleTone(from, to, 440, seconds: 2.0);
        Assert.InRange(output.Length, 2 * to - 2, 2 * to + 2);
    }

    [Fact]
    public void Equal_rates_pass_samples_through_unchanged()
    {
        using var same = new Resampler(16000, 16000);
        short[] input = [1, -2, 3, short.MaxValue, short.MinValue];
        var output = new short[same.MaxOutputLength(input.Length)];
        Assert.Equal(5, same.Process(input, output));
        Assert.Equal(input, output[..5]);
    }

    [Fact]
    public void Streaming_a_call_allocates_nothing_per_frame()
    {
        using var down = new Resampler(16000, 8000);
        var frame = new short[320];
        var output = new short[down.MaxOutputLength(frame.Length)];
        for (var i = 0; i < frame.Length; i++)
        {
            frame[i] = (short)(Amplitude * Math.Sin(i * 0.3));
        }
        for (var i = 0; i < 50; i++)
        {
            down.Process(frame, output);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            down.Process(frame, output);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void An_empty_frame_does_not_end_the_stream()
    {
        using var down = new Resampler(16000, 8000);
        var output = new short[down.MaxOutputLength(320)];
        Assert.Equal(0, down.Process([], output));
        var frame = Enumerable.Range(0, 320).Select(i => (short)(1000 * Math.Sin(i * 0.4))).ToArray();
        var total = 0;
        for (var i = 0; i < 50; i++)
        {
            total += down.Process(frame, output);
            Assert.Equal(0, down.Process([], output));
        }
        // libsoxr holds back ~850 samples (about 0.1 s) while streaming; an ended stream would give almost nothing.
        Assert.True(total is >= 8000 - 1000 and <= 8000, $"{total} samples out for 8000 in");
    }

    [Fact]
    public void After_a_flush_the_resampler_takes_a_new_stream()
    {
        using var down = new Resampler(16000, 8000);
        var clip = Enumerable.Range(0, 16000).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 500 * i / 16000))).ToArray();
        var output = new short[down.MaxOutputLength(clip.Length) + 4096];
        for (var sentence = 0; sentence < 5; sentence++) // as the session does for each synthesized sentence
        {
            var n = down.Process(clip, output);
            n += down.Flush(output.AsSpan(n));
            Assert.InRange(n, 7990, 8010);
        }
    }

    [Fact]
    public void A_too_small_output_buffer_is_refused()
    {
        using var up = new Resampler(8000, 16000);
        Assert.Throws<ArgumentOutOfRangeException>(() => up.Process(new short[160], new short[200]));
    }

    /// <summary>A tone at <paramref name="frequency"/> through the resampler in 20 ms frames, flushed at the end.</summary>
    private static short[] ResampleTone(int from, int to, int frequency, double seconds)
    {
        using var resampler = new Resampler(from, to);
        var total = (int)(from * seconds);
        var frameLength = from / 50;
        var frame = new short[frameLength];
        var buffer = new short[resampler.MaxOutputLength(frameLength)];
        var output = new List<short>();
        for (var start = 0; start < total; start += frameLength)
        {
            for (var i = 0; i < frameLength; i++)
            {
                frame[i] = (short)(Amplitude * Math.Sin(2 * Math.PI * frequency * (start + i) / from));
            }
            output.AddRange(buffer.AsSpan(0, resampler.Process(frame, buffer)));
        }
        var tail = new short[4096];
        output.AddRange(tail.AsSpan(0, resampler.Flush(tail)));
        return [.. output];
    }

    private static double Rms(ReadOnlySpan<short> samples)
    {
        double sum = 0;
        foreach (var s in samples)
        {
            sum += (double)s * s;
        }
        return Math.Sqrt(sum / samples.Length);
    }

    /// <summary>Frequency from zero crossings: enough for a clean single tone.</summary>
    private static double DominantFrequency(ReadOnlySpan<short> samples, int rate)
    {
        var crossings = 0;
        for (var i = 1; i < samples.Length; i++)
        {
            if ((samples[i - 1] < 0) != (samples[i] < 0))
            {
                crossings++;
            }
        }
        return crossings / 2.0 * rate / samples.Length;
    }
}
