namespace VoiceStudio.Media.Audio;

/// <summary>
/// G.711 μ-law, the telephone codec (Twilio, Vobiz): 8-bit codes ⇄ 16-bit linear PCM. Table-driven, span in,
/// span out, no allocation.
/// </summary>
public static class MuLaw
{
    private const int Bias = 0x84;
    private const int Clip = 32635;

    private static readonly short[] DecodeTable = BuildDecodeTable();

    /// <summary>Exponent of a biased magnitude, indexed by its bits 7..14.</summary>
    private static readonly byte[] ExponentTable = BuildExponentTable();

    public static short Decode(byte code) => DecodeTable[code];

    public static byte Encode(short sample)
    {
        int pcm = sample;
        var sign = (pcm >> 8) & 0x80;
        if (sign != 0)
        {
            pcm = -pcm;
        }
        if (pcm > Clip)
        {
            pcm = Clip;
        }
        pcm += Bias;
        int exponent = ExponentTable[(pcm >> 7) & 0xFF];
        var mantissa = (pcm >> (exponent + 3)) & 0x0F;
        return (byte)~(sign | (exponent << 4) | mantissa);
    }

    /// <summary>Decodes <paramref name="codes"/> into the first codes.Length samples of <paramref name="samples"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> codes, Span<short> samples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples.Length, codes.Length);
        var table = DecodeTable;
        for (var i = 0; i < codes.Length; i++)
        {
            samples[i] = table[codes[i]];
        }
    }

    /// <summary>Encodes <paramref name="samples"/> into the first samples.Length bytes of <paramref name="codes"/>.</summary>
    public static void Encode(ReadOnlySpan<short> samples, Span<byte> codes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(codes.Length, samples.Length);
        for (var i = 0; i < samples.Length; i++)
        {
            codes[i] = Encode(samples[i]);
        }
    }

    private static short[] BuildDecodeTable()
    {
        var table = new short[256];
        for (var code = 0; code < 256; code++)
        {
            var u = ~code & 0xFF;
            var exponent = (u >> 4) & 0x07;
            var mantissa = u & 0x0F;
            var magnitude = (((mantissa << 3) + Bias) << exponent) - Bias;
            table[code] = (short)((u & 0x80) != 0 ? -magnitude : magnitude);
        }
        return table;
    }

    private static byte[] BuildExponentTable()
    {
        var table = new byte[256];
        for (var i = 1; i < 256; i++)
        {
            table[i] = (byte)(31 - int.LeadingZeroCount(i));
        }
        return table;
    }
}
