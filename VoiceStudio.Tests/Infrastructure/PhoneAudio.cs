using VoiceStudio.Media.Audio;

namespace VoiceStudio.Tests.Infrastructure;

/// <summary>Test audio as a phone line carries it: 16 kHz speech narrowed to 8 kHz and through μ-law.</summary>
public static class PhoneAudio
{
    /// <summary>8 kHz μ-law codes of 16 kHz speech.</summary>
    public static byte[] MuLaw8k(ReadOnlySpan<short> speech16k)
    {
        var narrow = PhoneLine.Narrow(speech16k, 16000);
        var codes = new byte[narrow.Length];
        MuLaw.Encode(narrow, codes);
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
    public static short[] Wideband(ReadOnlySpan<short> speech16k) => PhoneLine.Resample(Narrowband(speech16k), 8000, 16000);
}
