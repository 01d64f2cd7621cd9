namespace VoiceStudio.Media.Audio.Vad;

/// <summary>The agent's VAD settings (SPEC §3 pipeline settings; defaults from issue 3).</summary>
public sealed record VadSettings(double Confidence = 0.7, double StartSeconds = 0.2, double StopSeconds = 0.8, double MinVolume = 0.6);

public enum SpeechEvent
{
    None,
    /// <summary>Speech has lasted <see cref="VadSettings.StartSeconds"/>: the caller is talking.</summary>
    Started,
    /// <summary>Silence has lasted <see cref="VadSettings.StopSeconds"/>: the caller's turn is over.</summary>
    Stopped,
}

/// <summary>
/// Turns audio (at the VAD's rate) into speech start / stop events: each 32 ms window counts as speech when the VAD's
/// probability reaches the confidence and the smoothed volume reaches min_volume; enough consecutive speech
/// windows start a turn, enough consecutive quiet ones end it. Frames of any length; no allocation.
/// </summary>
public sealed class TurnDetector(IVoiceActivity vad, VadSettings settings) : IDisposable
{
    private const double WindowSeconds = 0.032;

    private readonly short[] _window = new short[vad.WindowSamples];
    private readonly int _startWindows = Math.Max(1, (int)Math.Round(settings.StartSeconds / WindowSeconds));
    private readonly int _stopWindows = Math.Max(1, (int)Math.Round(settings.StopSeconds / WindowSeconds));
    private int _filled;
    private int _run;
    private double _volume;
    private long _samples;

    public bool Speaking { get; private set; }

    /// <summary>The last window's speech probability, for diagnostics.</summary>
    public float LastProbability { get; private set; }

    /// <summary>Audio time (from the first sample fed) at which the last event happened.</summary>
    public TimeSpan LastEventAt { get; private set; }

    /// <summary>Audio time at which the current (or last) speech began: the first speech window of its run.</summary>
    public TimeSpan SpeechBeganAt { get; private set; }

    /// <summary>Feeds audio at the VAD's sample rate; returns the first event it caused (at most one start and one stop per call in practice).</summary>
    public SpeechEvent Process(ReadOnlySpan<short> frame)
    {
        var result = SpeechEvent.None;
        while (!frame.IsEmpty)
        {
            var take = Math.Min(frame.Length, _window.Length - _filled);
            frame[..take].CopyTo(_window.AsSpan(_filled));
            _filled += take;
            frame = frame[take..];
            _samples += take;
            if (_filled == _window.Length)
            {
                _filled = 0;
                var e = Window();
                if (result == SpeechEvent.None)
                {
                    result = e;
                }
            }
        }
        return result;
    }

    private SpeechEvent Window()
    {
        LastProbability = vad.Probability(_window);
        // Smoothed so a pop is not a turn, but quick to rise (a one-word answer is only ~0.3 s of voice).
        var volume = Loudness.Volume(_window);
        _volume = volume > _volume ? 0.5 * _volume + 0.5 * volume : 0.8 * _volume + 0.2 * volume;
        var speech = LastProbability >= settings.Confidence && _volume >= settings.MinVolume;
        var now = TimeSpan.FromSeconds((double)_samples / vad.SampleRate);
        if (speech != Speaking)
        {
            _run++;
            if (!Speaking && _run == 1)
            {
                SpeechBeganAt = now - TimeSpan.FromSeconds(WindowSeconds);
            }
            if (_run >= (Speaking ? _stopWindows : _startWindows))
            {
                Speaking = speech;
                _run = 0;
                LastEventAt = now;
                return Speaking ? SpeechEvent.Started : SpeechEvent.Stopped;
            }
        }
        else if (Speaking)
        {
            _run = 0; // speech again: the stop needs stop_secs of unbroken silence
        }
        else
        {
            // Silence while a start is building: one quiet window (an unvoiced consonant) only takes one back.
            _run = Math.Max(0, _run - 1);
        }
        return SpeechEvent.None;
    }

    public void Dispose() => vad.Dispose();
}
