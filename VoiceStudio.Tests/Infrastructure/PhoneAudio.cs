using VoiceStudio.Media.Audio;

namespace VoiceStudio.Tests.Infrastructure;

/// <summary>Test audio as a phone line carries it: 16 kHz speech narrowed to 8 kHz and through μ-law.</summary>
public static class PhoneAudio
{
    /// <summary>8 kHz μ-law codes of 16 kHz speech.</summary>
    public static byte[] MuLaw8k(ReadOnlySpan<short> speech16k)
    {
        using var down = new Resampler(16000, 8000);
        var narrow = new short[down.MaxOutputLength(speech16k.Length) + 4096];
        var n = down.Process(speech16k, narrow);
        n += down.Flush(narrow.AsSpan(n));
        var codes = new byte[n];
        MuLaw.Encode(narrow.AsSpan(0, n), codes);
        return codes;
    }

    /// <summary>The 8 kHz samples the far end decodes.</summary>
    public static short[] Narrowband(ReadOnlySpan<short> speech16k)
    {
        var codes = MuLaw8k(speech16k);
        var samples = new short[codes.Length];
        MuLaw.Decode(codes, samples);
        return samples;
    }

    /// <summary>Narrowband audio brought back to 16 kHz (what a 16 kHz recognizer hears of a phone call).</summary>
    public static short[] Wideband(ReadOnlySpan<short> speech16k)
    {
        var narrow = Narrowband(speech16k);
        using var up = new Resampler(8000, 16000);
        var wide = new short[up.MaxOutputLength(narrow.Length) + 4096];
        var m = up.Process(narrow, wide);
        m += up.Flush(wide.AsSpan(m));
        return wide[..m];
    }
}
