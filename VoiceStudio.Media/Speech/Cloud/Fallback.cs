using VoiceStudio.Media.Speech.Flite;
namespace VoiceStudio.Media.Speech.Cloud;

/// <summary>A provider that can fail for the rest of the call (a closed socket): the fallback takes over at once.</summary>
public interface IFailingSpeech
{
    Exception? Failure { get; }
}

/// <summary>
/// A cloud recognizer with the agent's fallback behind it. The current utterance's audio is kept (pooled, up to
/// 30 s) so that when the provider fails at the end of a turn, the fallback hears the same words and the turn is not
/// lost; from then on the call stays on the fallback. <paramref name="report"/> is told once, with the reason.
/// </summary>
public sealed class FallbackRecognizer(ISpeechRecognizer primary, Func<ISpeechRecognizer> fallback, Action<string> report) : ISpeechRecognizer, IMuLawRecognizer, IInterimTiming
{
    public TimeSpan? FirstInterim => (Current as IInterimTiming)?.FirstInterim;

    private readonly List<byte> _utteranceMuLaw = [];

    public bool AcceptsMuLaw => _backup is null && primary is IMuLawRecognizer { AcceptsMuLaw: true };

    /// <summary>The line's μ-law goes to the provider; a copy is kept for the fallback should the turn fail.</summary>
    public void FeedMuLaw(ReadOnlySpan<byte> muLaw8k)
    {
        ((IMuLawRecognizer)primary).FeedMuLaw(muLaw8k);
        if (_utteranceMuLaw.Count + muLaw8k.Length <= MaxSamples / 2)
        {
            _utteranceMuLaw.AddRange(muLaw8k);
        }
    }

    private const int MaxSamples = 30 * 16000;
    private short[] _utterance = System.Buffers.ArrayPool<short>.Shared.Rent(16000 * 4);
    private int _length;
    private ISpeechRecognizer? _backup;
    private IReadOnlyList<string>? _phrases;

    public bool FailedOver => _backup is not null;

    private ISpeechRecognizer Current => _backup ?? primary;

    public void ExpectPhrases(IReadOnlyList<string>? phrases)
    {
        _phrases = phrases;
        Current.ExpectPhrases(phrases);
    }

    public void StartUtterance()
    {
        if (_backup is null && primary is IFailingSpeech { Failure: { } failure })
        {
            FailOver(failure.Message);
        }
        _length = 0;
        _utteranceMuLaw.Clear();
        Current.StartUtterance();
    }

    public void Feed(ReadOnlySpan<short> samples16k)
    {
        Current.Feed(samples16k);
        if (_backup is null && _length + samples16k.Length <= MaxSamples)
        {
            if (_length + samples16k.Length > _utterance.Length)
            {
                var bigger = System.Buffers.ArrayPool<short>.Shared.Rent(Math.Min(MaxSamples, Math.Max(_utterance.Length * 2, _length + samples16k.Length)));
                _utterance.AsSpan(0, _length).CopyTo(bigger);
                System.Buffers.ArrayPool<short>.Shared.Return(_utterance);
                _utterance = bigger;
            }
            samples16k.CopyTo(_utterance.AsSpan(_length));
            _length += samples16k.Length;
        }
    }

    public string Partial() => Current.Partial();

    public async ValueTask<string> FinishUtteranceAsync()
    {
        if (_backup is not null)
        {
            return await _backup.FinishUtteranceAsync();
        }
        try
        {
            return await primary.FinishUtteranceAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            FailOver(e.Message);
            _backup!.StartUtterance();
            _backup.Feed(_utterance.AsSpan(0, _length)); // the same words, heard again by the fallback
            if (_utteranceMuLaw.Count > 0)
            {
                var narrow = new short[_utteranceMuLaw.Count];
                Audio.MuLaw.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_utteranceMuLaw), narrow);
                _backup.Feed(Audio.PhoneLine.Resample(narrow, 8000, 16000));
            }
            return await _backup.FinishUtteranceAsync();
        }
    }

    private void FailOver(string reason)
    {
        _backup = fallback();
        _backup.ExpectPhrases(_phrases);
        report(reason);
    }

    public void Dispose()
    {
        primary.Dispose();
        _backup?.Dispose();
        System.Buffers.ArrayPool<short>.Shared.Return(_utterance);
    }
}

/// <summary>
/// A cloud voice with the agent's fallback voice behind it: when the provider fails before a sentence's first audio,
/// the fallback speaks that sentence, and the rest of the call (no dead air); <paramref name="report"/> is told once.
/// A failure mid-sentence ends that sentence and moves the next ones to the fallback.
/// </summary>
public sealed class FallbackTextToSpeech(IStreamingTextToSpeech primary, ITextToSpeech fallback, Action<string> report) : IStreamingTextToSpeech, IDisposable
{
    /// <summary>Ends the provider's connection (Cartesia's socket) with the call.</summary>
    public void Dispose() => (primary as IDisposable)?.Dispose();

    private volatile bool _failed;

    public bool FailedOver => _failed;

    public int SampleRate => _failed ? fallback.SampleRate : primary.SampleRate;

    public async IAsyncEnumerable<AudioChunk> StreamAsync(string text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var yielded = false;
        if (!_failed)
        {
            Exception? failure = null;
            var chunks = primary.StreamAsync(text, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    AudioChunk chunk;
                    try
                    {
                        if (!await chunks.MoveNextAsync())
                        {
                            break;
                        }
                        chunk = chunks.Current;
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = e;
                        break;
                    }
                    yielded = true;
                    yield return chunk;
                }
            }
            finally
            {
                await chunks.DisposeAsync();
            }
            if (failure is null)
            {
                yield break;
            }
            _failed = true;
            report(failure is TaskCanceledException ? "the provider did not answer in time" : failure.Message);
        }
        if (!yielded)
        {
            using var audio = await fallback.SynthesizeAsync(text, cancellationToken);
            yield return new AudioChunk(audio.Samples.ToArray(), audio.SampleRate);
        }
    }

    public async Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
        await SpeechStreams.CollectAsync(StreamAsync(text, cancellationToken), SampleRate);
}
