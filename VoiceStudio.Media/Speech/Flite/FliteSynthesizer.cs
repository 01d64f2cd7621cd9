namespace VoiceStudio.Media.Speech.Flite;

/// <summary>
/// Text to 16-bit mono PCM with Flite's cmu_us_slt voice (16 kHz). Flite's voice objects are process-wide
/// singletons, so syntheses are serialized through one gate; a sentence takes a few milliseconds of CPU, and
/// callers split text into sentences so no call waits long (see docs/benchmarks.md).
/// </summary>
public sealed class FliteSynthesizer
{
    private static readonly Lock Gate = new();
    private static nint _sltVoice;

    public const string VoiceName = "cmu_us_slt";

    public static FliteSynthesizer Shared { get; } = new();

    private FliteSynthesizer()
    {
    }

    /// <summary>The voice's sample rate (16 kHz for cmu_us_slt).</summary>
    public int SampleRate { get; private set; } = 16000;

    /// <summary>Synthesizes <paramref name="text"/>; the samples are rented from <paramref name="pool"/> (return them with <see cref="SynthesizedAudio.Dispose"/>).</summary>
    public SynthesizedAudio Synthesize(string text, System.Buffers.ArrayPool<short>? pool = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        pool ??= System.Buffers.ArrayPool<short>.Shared;
        if (string.IsNullOrWhiteSpace(text))
        {
            return new SynthesizedAudio(pool, pool.Rent(1), 0, SampleRate);
        }
        lock (Gate)
        {
            var voice = Voice();
            unsafe
            {
                var wave = FliteLibrary.TextToWave(text, voice);
                if (wave == null)
                {
                    throw new InvalidOperationException("Flite returned no audio");
                }
                try
                {
                    var count = wave->NumSamples * Math.Max(1, wave->NumChannels);
                    var samples = pool.Rent(Math.Max(1, count));
                    new ReadOnlySpan<short>((void*)wave->Samples, count).CopyTo(samples);
                    SampleRate = wave->SampleRate;
                    return new SynthesizedAudio(pool, samples, count, wave->SampleRate);
                }
                finally
                {
                    FliteLibrary.DeleteWave(wave);
                }
            }
        }
    }

    private static nint Voice()
    {
        if (_sltVoice == 0)
        {
            _ = FliteLibrary.Init(); // always 0
            _sltVoice = FliteLibrary.RegisterSlt(null);
            if (_sltVoice == 0)
            {
                throw new InvalidOperationException("Flite could not load the cmu_us_slt voice (install the Debian package flite)");
            }
        }
        return _sltVoice;
    }
}

/// <summary>PCM samples rented from a pool; dispose to return them.</summary>
public sealed class SynthesizedAudio(System.Buffers.ArrayPool<short> pool, short[] buffer, int length, int sampleRate) : IDisposable
{
    private short[]? _buffer = buffer;

    public int SampleRate { get; } = sampleRate;
    public int Length { get; } = length;
    public ReadOnlySpan<short> Samples => (_buffer ?? throw new ObjectDisposedException(nameof(SynthesizedAudio))).AsSpan(0, Length);
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Length / SampleRate);

    public void Dispose()
    {
        if (_buffer is { } b)
        {
            _buffer = null;
            pool.Return(b);
        }
    }
}
