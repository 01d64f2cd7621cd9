namespace VoiceStudio.Media.Audio.Vad;

/// <summary>
/// Speech probability of 32 ms windows (256 samples at 8 kHz, 512 at 16 kHz). It runs at the stream's own rate:
/// phone audio is scored at 8 kHz, where Silero is far surer of narrowband speech than after upsampling.
/// One instance per call.
/// </summary>
public interface IVoiceActivity : IDisposable
{
    int SampleRate { get; }

    int WindowSamples => SampleRate / 1000 * 32;

    /// <summary>0..1: how likely <paramref name="window"/> (exactly <see cref="WindowSamples"/> samples) is speech.</summary>
    float Probability(ReadOnlySpan<short> window);

    static void CheckRate(int sampleRate)
    {
        if (sampleRate is not (8000 or 16000))
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "the VAD runs at 8000 or 16000 Hz");
        }
    }
}

/// <summary>Creates each call's detector: Silero when its model file is present, else the energy detector.</summary>
public sealed class VoiceActivityFactory : IDisposable
{
    private readonly SileroVadModel? _silero;

    public VoiceActivityFactory(string? sileroModelPath, Action<string>? warn = null)
    {
        if (!string.IsNullOrEmpty(sileroModelPath) && File.Exists(sileroModelPath))
        {
            _silero = new SileroVadModel(sileroModelPath);
        }
        else
        {
            warn?.Invoke($"Silero VAD model not found at '{sileroModelPath}'; using the energy VAD (set VAD_MODEL_PATH, or run scripts/run.sh to fetch it)");
        }
    }

    public bool UsesSilero => _silero is not null;

    /// <summary>A detector for a stream at <paramref name="sampleRate"/> (8000 or 16000 Hz).</summary>
    public IVoiceActivity Create(int sampleRate) => _silero is not null ? new SileroVad(_silero, sampleRate) : new EnergyVad(sampleRate);

    public void Dispose() => _silero?.Dispose();
}

/// <summary>Fallback: speech probability from loudness (−50 dBFS → 0, −30 dBFS → 1).</summary>
public sealed class EnergyVad : IVoiceActivity
{
    public EnergyVad(int sampleRate)
    {
        IVoiceActivity.CheckRate(sampleRate);
        SampleRate = sampleRate;
    }

    public int SampleRate { get; }

    public float Probability(ReadOnlySpan<short> window)
    {
        var db = Loudness.Dbfs(window);
        return Math.Clamp((float)((db + 50) / 20), 0f, 1f);
    }

    public void Dispose()
    {
    }
}

public static class Loudness
{
    /// <summary>RMS level in dB relative to full scale (−96 for silence).</summary>
    public static double Dbfs(ReadOnlySpan<short> samples)
    {
        if (samples.IsEmpty)
        {
            return -96;
        }
        double sum = 0;
        foreach (var s in samples)
        {
            sum += (double)s * s;
        }
        var rms = Math.Sqrt(sum / samples.Length) / 32768.0;
        return rms <= 1.6e-5 ? -96 : 20 * Math.Log10(rms);
    }

    /// <summary>
    /// The 0..1 volume that the min_volume setting is compared with: −90 dBFS → 0, 0 dBFS → 1, linear in dB.
    /// The default min_volume 0.6 is therefore −36 dBFS: phone speech (−30…−15 dBFS) passes, line hiss does not.
    /// </summary>
    public static double Volume(ReadOnlySpan<short> samples) => Math.Clamp((Dbfs(samples) + 90) / 90, 0, 1);
}
