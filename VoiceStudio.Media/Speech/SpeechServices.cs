using System.Collections.Concurrent;
using VoiceStudio.Media.Speech.Flite;
using VoiceStudio.Media.Speech.PocketSphinx;

namespace VoiceStudio.Media.Speech;

/// <summary>Text to speech for one call.</summary>
public interface ITextToSpeech
{
    /// <summary>The rate of the audio it returns.</summary>
    int SampleRate { get; }

    /// <summary>One sentence to PCM; the caller disposes the audio.</summary>
    Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken);
}

/// <summary>A piece of a sentence's audio as it arrives from a streaming provider (the rate may differ per chunk after a fallback).</summary>
public readonly record struct AudioChunk(ReadOnlyMemory<short> Samples, int SampleRate);

/// <summary>
/// Text to speech that streams: the call plays a sentence's first audio while the rest is still being made.
/// Cancelling the token stops the sentence (a barge-in) and the provider's work on it.
/// </summary>
public interface IStreamingTextToSpeech : ITextToSpeech
{
    IAsyncEnumerable<AudioChunk> StreamAsync(string text, CancellationToken cancellationToken);
}

/// <summary>Speech to text for one call, fed 16 kHz audio as it arrives; not thread-safe.</summary>
public interface ISpeechRecognizer : IDisposable
{
    void ExpectPhrases(IReadOnlyList<string>? phrases);
    void StartUtterance();
    void Feed(ReadOnlySpan<short> samples16k);

    /// <summary>What the utterance so far sounds like (for the minimum-words rule of barge-in).</summary>
    string Partial();

    /// <summary>
    /// The utterance's final text. Embedded recognizers answer at once; a cloud one may wait for its provider, and
    /// the call goes on meanwhile (turns keep their order).
    /// </summary>
    ValueTask<string> FinishUtteranceAsync();
}

/// <summary>
/// A recognizer that can take the phone line's own 8 kHz μ-law (Deepgram): the call then hands it the provider's
/// bytes as they came, not audio decoded and resampled to 16 kHz.
/// </summary>
public interface IMuLawRecognizer
{
    /// <summary>True while μ-law should be fed instead of <see cref="ISpeechRecognizer.Feed"/>.</summary>
    bool AcceptsMuLaw { get; }

    void FeedMuLaw(ReadOnlySpan<byte> muLaw8k);
}

/// <summary>A streaming recognizer that says when its first interim text of the utterance came (from StartUtterance).</summary>
public interface IInterimTiming
{
    TimeSpan? FirstInterim { get; }
}

/// <summary>Flite: synthesis runs on the thread pool so the caller's flow never blocks on it.</summary>
public sealed class FliteTextToSpeech : ITextToSpeech
{
    public int SampleRate => 16000;

    public Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
        Task.Run(() => FliteSynthesizer.Shared.Synthesize(text), cancellationToken);
}

/// <summary>
/// PocketSphinx decoders cost ~0.3 s and ~50 MB to load, so calls borrow them from this pool and give them back;
/// each remembers the phrase grammars it has compiled.
/// </summary>
public sealed class PocketSphinxPool(PocketSphinxModel model) : IDisposable
{
    private readonly ConcurrentBag<PocketSphinxDecoder> _idle = [];

    public PocketSphinxModel Model => model;

    /// <summary>Loads <paramref name="count"/> decoders ahead of the first calls.</summary>
    public void Warm(int count)
    {
        _ = model.Words.Count;
        for (var i = _idle.Count; i < count; i++)
        {
            _idle.Add(Create());
        }
    }

    public ISpeechRecognizer Rent()
    {
        var decoder = _idle.TryTake(out var idle) ? idle : Create();
        if (_idle.Count < _spare && Interlocked.CompareExchange(ref _refilling, 1, 0) == 0)
        {
            // Load the next call's decoder now, off the call's path (a cold one costs ~0.5 s of CPU).
            _ = Task.Run(() =>
            {
                try
                {
                    while (_idle.Count < _spare)
                    {
                        _idle.Add(Create());
                    }
                }
                finally
                {
                    Volatile.Write(ref _refilling, 0);
                }
            });
        }
        return new PooledRecognizer(this, decoder);
    }

    /// <summary>Keeps at least <paramref name="count"/> idle decoders loaded, refilled in the background as calls take them.</summary>
    public void KeepSpare(int count)
    {
        _spare = Math.Max(0, count);
        Warm(_spare);
    }

    private int _spare;
    private int _refilling;

    /// <summary>
    /// A new decoder, primed with one utterance of phone-band speech: a fresh decoder's feature normalization starts
    /// from the model's studio-audio estimate, and its first phone utterance then comes back empty (measured: a
    /// grammar of six phrases heard nothing in "book an appointment" on a fresh decoder and got it on every later try).
    /// </summary>
    private PocketSphinxDecoder Create()
    {
        var decoder = new PocketSphinxDecoder(model);
        decoder.UsePhrases(null);
        decoder.StartUtterance();
        decoder.Process(PrimingSpeech.Value);
        decoder.EndUtterance();
        return decoder;
    }

    private static readonly Lazy<short[]> PrimingSpeech = new(() =>
    {
        using var speech = FliteSynthesizer.Shared.Synthesize("Hello. I would like to book an appointment for Tuesday, please.");
        var phone = Audio.PhoneLine.ThroughMuLaw(Audio.PhoneLine.Narrow(speech.Samples, speech.SampleRate));
        return Audio.PhoneLine.Resample(phone, 8000, 16000);
    });

    private void Return(PocketSphinxDecoder decoder) => _idle.Add(decoder);

    public void Dispose()
    {
        while (_idle.TryTake(out var decoder))
        {
            decoder.Dispose();
        }
    }

    private sealed class PooledRecognizer(PocketSphinxPool pool, PocketSphinxDecoder decoder) : ISpeechRecognizer
    {
        private bool _open;

        public void ExpectPhrases(IReadOnlyList<string>? phrases) => decoder.UsePhrases(phrases);

        public void StartUtterance()
        {
            decoder.StartUtterance();
            _open = true;
        }

        public void Feed(ReadOnlySpan<short> samples16k) => decoder.Process(samples16k);

        public string Partial() => decoder.Partial();

        public ValueTask<string> FinishUtteranceAsync()
        {
            _open = false;
            return ValueTask.FromResult(decoder.EndUtterance());
        }

        public void Dispose()
        {
            if (_open)
            {
                decoder.EndUtterance();
            }
            pool.Return(decoder);
        }
    }
}

/// <summary>The recognizer of a text-only call (typed turns): it expects phrases like any other and never hears audio.</summary>
public sealed class NoAudioRecognizer : ISpeechRecognizer
{
    public void ExpectPhrases(IReadOnlyList<string>? phrases)
    {
    }

    public void StartUtterance() => throw new InvalidOperationException("a text-only call has no audio to recognize");

    public void Feed(ReadOnlySpan<short> samples16k) => throw new InvalidOperationException("a text-only call has no audio to recognize");

    public string Partial() => "";

    public ValueTask<string> FinishUtteranceAsync() => ValueTask.FromResult("");

    public void Dispose()
    {
    }
}

/// <summary>
/// A recognizer whose decoder is fetched in the background: a call can start (and greet) at once even when the
/// pool has to load a cold decoder, which is first needed when the caller starts speaking, seconds later.
/// </summary>
public sealed class DeferredRecognizer(Func<ISpeechRecognizer> rent) : ISpeechRecognizer
{
    private readonly Task<ISpeechRecognizer> _inner = Task.Run(rent);
    private IReadOnlyList<string>? _phrases;
    private bool _phrasesPending;

    private ISpeechRecognizer Inner
    {
        get
        {
            var inner = _inner.IsCompletedSuccessfully ? _inner.Result : _inner.GetAwaiter().GetResult(); // waits only if the caller speaks before it is loaded
            if (_phrasesPending)
            {
                _phrasesPending = false;
                inner.ExpectPhrases(_phrases);
            }
            return inner;
        }
    }

    public void ExpectPhrases(IReadOnlyList<string>? phrases)
    {
        if (_inner.IsCompletedSuccessfully && !_phrasesPending)
        {
            _inner.Result.ExpectPhrases(phrases);
            return;
        }
        _phrases = phrases;
        _phrasesPending = true;
    }

    public void StartUtterance() => Inner.StartUtterance();

    public void Feed(ReadOnlySpan<short> samples16k) => Inner.Feed(samples16k);

    public string Partial() => Inner.Partial();

    public ValueTask<string> FinishUtteranceAsync() => Inner.FinishUtteranceAsync();

    public void Dispose()
    {
        try
        {
            _inner.GetAwaiter().GetResult().Dispose();
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException)
        {
            // it never loaded: nothing to give back
        }
    }
}
