namespace VoiceStudio.Media.Audio;

/// <summary>What a phone line does to audio: narrowed to 8 kHz and through G.711 μ-law.</summary>
public static class PhoneLine
{
    /// <summary>Any-rate audio resampled to 8 kHz (flushed to its end).</summary>
    public static short[] Narrow(ReadOnlySpan<short> audio, int sampleRate) => Resample(audio, sampleRate, 8000);

    /// <summary>8 kHz samples after a μ-law round trip (what the far end decodes).</summary>
    public static short[] ThroughMuLaw(ReadOnlySpan<short> narrow)
    {
        var codes = new byte[narrow.Length];
        MuLaw.Encode(narrow, codes);
        var samples = new short[codes.Length];
        MuLaw.Decode(codes, samples);
        return samples;
    }

    /// <summary>One whole clip from <paramref name="from"/> Hz to <paramref name="to"/> Hz.</summary>
    public static short[] Resample(ReadOnlySpan<short> audio, int from, int to)
    {
        using var resampler = new Resampler(from, to);
        var output = new short[resampler.MaxOutputLength(audio.Length) + 2048];
        var count = audio.IsEmpty ? 0 : resampler.Process(audio, output);
        count += resampler.Flush(output.AsSpan(count));
        return output[..count];
    }
}
