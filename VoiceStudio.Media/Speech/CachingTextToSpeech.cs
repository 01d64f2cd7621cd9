using System.Buffers;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Media.Speech;

/// <summary>
/// Remembers the audio of recent sentences: greetings and the fixed prompts of deterministic flows repeat across
/// calls, and requests for a sentence already being synthesized share that synthesis. Least recently used
/// sentences go first once <paramref name="maxSamples"/> are held (default: 10 minutes of 16 kHz audio, 19 MiB).
/// </summary>
public sealed class CachingTextToSpeech(ITextToSpeech inner, long maxSamples = 16000L * 600) : ITextToSpeech
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recent = new();
    private long _held;

    public int SampleRate => inner.SampleRate;

    /// <summary>Syntheses actually made (for tests and diagnostics).</summary>
    public int Misses { get; private set; }

    public async Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken)
    {
        Task<short[]> audio;
        lock (_gate)
        {
            if (_entries.TryGetValue(text, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                audio = node.Value.Audio;
            }
            else
            {
                Misses++;
                audio = SynthesizeOnceAsync(text);
                _entries[text] = _recent.AddFirst(new Entry(text, audio));
            }
        }
        short[] samples;
        try
        {
            samples = await audio.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Forget(text, audio); // a failed synthesis is not remembered
            throw;
        }
        var copy = ArrayPool<short>.Shared.Rent(Math.Max(1, samples.Length));
        samples.CopyTo(copy, 0);
        return new SynthesizedAudio(ArrayPool<short>.Shared, copy, samples.Length, inner.SampleRate);
    }

    private async Task<short[]> SynthesizeOnceAsync(string text)
    {
        using var audio = await inner.SynthesizeAsync(text, CancellationToken.None);
        var samples = audio.Samples.ToArray();
        lock (_gate)
        {
            _held += samples.Length;
            while (_held > maxSamples && _recent.Last is { } oldest && oldest.Value.Audio.IsCompletedSuccessfully)
            {
                _held -= oldest.Value.Audio.Result.Length;
                _entries.Remove(oldest.Value.Text);
                _recent.RemoveLast();
            }
        }
        return samples;
    }

    private void Forget(string text, Task<short[]> audio)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(text, out var node) && node.Value.Audio == audio)
            {
                _entries.Remove(text);
                _recent.Remove(node);
            }
        }
    }

    private sealed record Entry(string Text, Task<short[]> Audio);
}
