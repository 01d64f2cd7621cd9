using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Tests.Media;

public sealed class CachingTextToSpeechTests
{
    [Fact]
    public async Task Twenty_calls_greeting_at_once_share_one_synthesis()
    {
        var cache = new CachingTextToSpeech(new FliteTextToSpeech());
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => cache.SynthesizeAsync("Hello, and thank you for calling.", CancellationToken.None))));
        Assert.Equal(1, cache.Misses);
        var first = results[0].Samples.ToArray();
        Assert.True(first.Length > 8000);
        Assert.All(results, r => Assert.Equal(first, r.Samples.ToArray()));
        foreach (var r in results)
        {
            r.Dispose();
        }
        using var again = await cache.SynthesizeAsync("Hello, and thank you for calling.", CancellationToken.None);
        using var other = await cache.SynthesizeAsync("Goodbye.", CancellationToken.None);
        Assert.Equal(2, cache.Misses);
    }

    [Fact]
    public async Task The_least_recently_used_sentences_make_room()
    {
        var cache = new CachingTextToSpeech(new FliteTextToSpeech(), maxSamples: 40_000); // about 2.5 s of audio
        string[] sentences = ["One.", "Two.", "Three.", "Four.", "Five."];
        foreach (var sentence in sentences)
        {
            (await cache.SynthesizeAsync(sentence, CancellationToken.None)).Dispose();
        }
        (await cache.SynthesizeAsync("Five.", CancellationToken.None)).Dispose();
        Assert.Equal(5, cache.Misses); // the newest is still held
        (await cache.SynthesizeAsync("One.", CancellationToken.None)).Dispose();
        Assert.Equal(6, cache.Misses); // the oldest was dropped
    }

    [Fact]
    public async Task A_failed_synthesis_is_not_remembered()
    {
        var failing = new FailingOnce();
        var cache = new CachingTextToSpeech(failing);
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.SynthesizeAsync("Hi.", CancellationToken.None));
        using var audio = await cache.SynthesizeAsync("Hi.", CancellationToken.None);
        Assert.Equal(2, failing.Calls);
    }

    private sealed class FailingOnce : ITextToSpeech
    {
        public int Calls;

        public int SampleRate => 16000;

        public Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
            ++Calls == 1 ? throw new InvalidOperationException("provider down") : new FliteTextToSpeech().SynthesizeAsync(text, cancellationToken);
    }
}
