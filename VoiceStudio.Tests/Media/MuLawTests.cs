using VoiceStudio.Media.Audio;

namespace VoiceStudio.Tests.Media;

public sealed class MuLawTests
{
    [Theory]
    [InlineData(0xFF, 0)]
    [InlineData(0x7F, 0)]
    [InlineData(0x80, 32124)]
    [InlineData(0x00, -32124)]
    [InlineData(0xFE, 8)]
    [InlineData(0x7E, -8)]
    [InlineData(0xEF, 132)]
    [InlineData(0xCF, 924)]   // u = 0x30: (132 << 3) - 132
    [InlineData(0x8F, 16764)] // u = 0x70: (132 << 7) - 132
    public void Decodes_the_g711_reference_values(int code, int sample) => Assert.Equal(sample, MuLaw.Decode((byte)code));

    [Theory]
    [InlineData(0, 0xFF)]
    [InlineData(32767, 0x80)]
    [InlineData(-32768, 0x00)]
    [InlineData(100, 0xF2)]
    [InlineData(-100, 0x72)]
    [InlineData(1000, 0xCE)]
    public void Encodes_the_g711_reference_values(int sample, int code) => Assert.Equal(code, MuLaw.Encode((short)sample));

    [Fact]
    public void Every_code_survives_a_round_trip_except_negative_zero()
    {
        for (var code = 0; code < 256; code++)
        {
            var expected = code == 0x7F ? 0xFF : code;
            Assert.Equal(expected, MuLaw.Encode(MuLaw.Decode((byte)code)));
        }
    }

    [Fact]
    public void Quantization_error_stays_within_the_step_of_each_segment()
    {
        for (var sample = short.MinValue; sample < short.MaxValue; sample += 7)
        {
            var back = MuLaw.Decode(MuLaw.Encode(sample));
            var magnitude = Math.Min(Math.Abs((int)sample), 32635);
            var step = Math.Max(8, (magnitude + 0x84) >> 4); // half a step of the segment, generously
            Assert.InRange(Math.Abs(Math.Clamp((int)sample, -32635, 32635) - back), 0, step);
        }
    }

    [Fact]
    public void Span_versions_match_the_scalar_ones()
    {
        var codes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var samples = new short[256];
        MuLaw.Decode(codes, samples);
        var again = new byte[256];
        MuLaw.Encode(samples, again);
        for (var i = 0; i < 256; i++)
        {
            Assert.Equal(MuLaw.Decode(codes[i]), samples[i]);
            Assert.Equal(MuLaw.Encode(samples[i]), again[i]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => MuLaw.Decode(codes, new short[10]));
    }
}
