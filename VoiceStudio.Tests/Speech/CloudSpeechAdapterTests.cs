using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Cloud;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Tests.Speech;

/// <summary>Each cloud adapter against the local server that speaks its provider's protocol; fallbacks when they fail.</summary>
public sealed class CloudSpeechAdapterTests : IAsyncLifetime, IDisposable
{
    private CloudSpeechServer _server = null!;
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { Timeout = TimeSpan.FromSeconds(10) }; // as the app's "speech" client

    public async Task InitializeAsync() => _server = await CloudSpeechServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _http.Dispose();

    private CloudSpeechSettings Settings(string path = "", string key = CloudSpeechServer.Key, string? voice = null) =>
        new(new Uri(_server.BaseUri, path), key, null, voice, "en-US");

    private static short[] Speech(string text)
    {
        using var audio = FliteSynthesizer.Shared.Synthesize(text);
        return audio.Samples.ToArray();
    }

    /// <summary>A stand-in fallback that says how much audio it was given.</summary>
    private sealed class CountingRecognizer : ISpeechRecognizer
    {
        public int Samples;
        public void ExpectPhrases(IReadOnlyList<string>? phrases) { }
        public void StartUtterance() => Samples = 0;
        public void Feed(ReadOnlySpan<short> samples16k) => Samples += samples16k.Length;
        public string Partial() => "";
        public ValueTask<string> FinishUtteranceAsync() => ValueTask.FromResult($"fallback heard {Samples} samples");
        public void Dispose() { }
    }

    [Fact]
    public async Task Deepgram_streams_the_turn_finalizes_it_and_closes_the_stream_at_the_end()
    {
        _server.Transcripts.Enqueue("book an appointment for tuesday");
        var usage = new SpeechUsage();
        var recognizer = new DeepgramRecognizer(Settings(), usage);
        recognizer.StartUtterance();
        var audio = Speech("book an appointment for tuesday");
        for (var i = 0; i < audio.Length; i += 320)
        {
            recognizer.Feed(audio.AsSpan(i, Math.Min(320, audio.Length - i)));
        }
        Assert.Equal("book an appointment for tuesday", await recognizer.FinishUtteranceAsync());
        Assert.Equal(audio.Length * 2L, _server.DeepgramAudioBytes);
        Assert.Equal(audio.Length / 16000.0, usage.SttSeconds, 3);
        var query = Assert.Single(_server.DeepgramQueries);
        Assert.Contains("encoding=linear16", query, StringComparison.Ordinal);
        Assert.Contains("sample_rate=16000", query, StringComparison.Ordinal);
        Assert.Contains("interim_results=true", query, StringComparison.Ordinal);
        Assert.Contains("endpointing=300", query, StringComparison.Ordinal);
        recognizer.Dispose();
        await WaitUntilAsync(() => _server.DeepgramControl.Contains("CloseStream"));
        Assert.Equal(["Finalize", "CloseStream"], _server.DeepgramControl);
    }

    [Fact]
    public async Task On_a_mu_law_line_deepgram_gets_the_callers_bytes_as_they_came_and_a_failure_replays_them_to_the_fallback()
    {
        _server.Transcripts.Enqueue("yes please");
        var usage = new SpeechUsage();
        using (var recognizer = new DeepgramRecognizer(Settings(), usage, muLaw8k: true))
        {
            Assert.True(recognizer.AcceptsMuLaw);
            recognizer.StartUtterance();
            var line = new byte[8000];
            VoiceStudio.Media.Audio.MuLaw.Encode(VoiceStudio.Media.Audio.PhoneLine.Resample(Speech("yes please"), 16000, 8000).AsSpan(0, 8000), line);
            for (var i = 0; i < line.Length; i += 160)
            {
                recognizer.FeedMuLaw(line.AsSpan(i, 160));
            }
            Assert.Equal("yes please", await recognizer.FinishUtteranceAsync());
            Assert.Equal(8000, _server.DeepgramAudioBytes); // one byte per sample, nothing resampled
            Assert.Equal(1.0, usage.SttSeconds, 3);
            Assert.Contains("encoding=mulaw&sample_rate=8000", Assert.Single(_server.DeepgramQueries), StringComparison.Ordinal);
        }

        var fallback = new CountingRecognizer();
        using var failing = new FallbackRecognizer(new DeepgramRecognizer(Settings(key: "wrong"), null, muLaw8k: true), () => fallback, _ => { });
        failing.StartUtterance();
        failing.FeedMuLaw(new byte[4000]); // half a second of the line
        Assert.Equal("fallback heard 8000 samples", await failing.FinishUtteranceAsync()); // decoded and brought to 16 kHz for the fallback
        Assert.False(failing.AcceptsMuLaw); // from now on the call feeds 16 kHz to the fallback
    }

    [Fact]
    public async Task A_refused_deepgram_key_hands_the_same_words_to_the_fallback_and_says_why_once()
    {
        var reports = new List<string>();
        var fallback = new CountingRecognizer();
        using var recognizer = new FallbackRecognizer(new DeepgramRecognizer(Settings(key: "wrong")), () => fallback, reports.Add);
        recognizer.StartUtterance();
        recognizer.Feed(new short[16000]);
        Assert.Equal("fallback heard 16000 samples", await recognizer.FinishUtteranceAsync());
        recognizer.StartUtterance();
        recognizer.Feed(new short[8000]);
        Assert.Equal("fallback heard 8000 samples", await recognizer.FinishUtteranceAsync());
        var report = Assert.Single(reports);
        Assert.Contains("deepgram", report, StringComparison.Ordinal);
        Assert.Contains("check the API key", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deepgram_socket_dropped_mid_call_fails_over_without_losing_the_turn()
    {
        _server.DropDeepgramAfterBytes = 8000;
        var reports = new List<string>();
        var fallback = new CountingRecognizer();
        using var recognizer = new FallbackRecognizer(new DeepgramRecognizer(Settings()), () => fallback, reports.Add);
        recognizer.StartUtterance();
        for (var i = 0; i < 50; i++)
        {
            recognizer.Feed(new short[320]);
            await Task.Delay(2);
        }
        Assert.Equal("fallback heard 16000 samples", await recognizer.FinishUtteranceAsync());
        Assert.Single(reports);
    }

    [Fact]
    public async Task OpenAi_speech_streams_24_khz_pcm_in_pieces_as_it_is_made()
    {
        var usage = new SpeechUsage();
        var voice = new OpenAiTextToSpeech(_http, Settings("v1/"), usage);
        var chunks = new List<AudioChunk>();
        await foreach (var chunk in voice.StreamAsync("Your appointment is on Tuesday at nine.", CancellationToken.None))
        {
            chunks.Add(chunk);
        }
        Assert.True(chunks.Count > 5, $"{chunks.Count} chunks");
        Assert.All(chunks, c => Assert.Equal(24000, c.SampleRate));
        Assert.Equal(_server.LastSpokenSamples, chunks.SelectMany(c => c.Samples.ToArray())); // nothing lost or shifted at odd chunk edges
        Assert.Equal("Your appointment is on Tuesday at nine.".Length, usage.TtsCharacters);
    }

    [Fact]
    public async Task A_refused_speech_key_is_spoken_by_the_fallback_voice_and_reported_once()
    {
        var reports = new List<string>();
        var voice = new FallbackTextToSpeech(new OpenAiTextToSpeech(_http, Settings("v1/", key: "wrong")), new FliteTextToSpeech(), reports.Add);
        foreach (var sentence in new[] { "Hello there.", "How can I help?" })
        {
            var samples = 0;
            await foreach (var chunk in voice.StreamAsync(sentence, CancellationToken.None))
            {
                Assert.Equal(16000, chunk.SampleRate);
                samples += chunk.Samples.Length;
            }
            Assert.True(samples > 8000);
        }
        var report = Assert.Single(reports);
        Assert.Contains("401", report, StringComparison.Ordinal);
        Assert.Contains("check the API key", report, StringComparison.Ordinal);
        Assert.Empty(_server.SpokenTexts); // after the first refusal the provider is not asked again
    }

    [Fact]
    public async Task ElevenLabs_speaks_at_the_calls_rate_and_a_barge_in_cancels_the_request()
    {
        var voice = new ElevenLabsTextToSpeech(_http, Settings(voice: "voice-1"), callRate: 8000);
        Assert.Equal(8000, voice.SampleRate);
        using var bargeIn = new CancellationTokenSource();
        var got = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in voice.StreamAsync("This is a long sentence that the caller will interrupt before it ends, as callers do.", bargeIn.Token))
            {
                Assert.Equal(8000, chunk.SampleRate);
                if (++got == 2)
                {
                    await bargeIn.CancelAsync();
                }
            }
        });
        await WaitUntilAsync(() => _server.SpeechRequestsCancelled == 1);
    }

    [Fact]
    public async Task Cartesia_streams_each_sentence_on_its_own_context_and_a_barge_in_cancels_only_that_one()
    {
        var usage = new SpeechUsage();
        using var voice = new CartesiaTextToSpeech(Settings(voice: "voice-1"), callRate: 8000, usage);
        var first = new List<AudioChunk>();
        await foreach (var chunk in voice.StreamAsync("Hello, and thank you for calling.", CancellationToken.None))
        {
            first.Add(chunk);
        }
        Assert.True(first.Count > 3);
        Assert.All(first, c => Assert.Equal(8000, c.SampleRate));
        Assert.Single(_server.CartesiaCompleted);

        using var bargeIn = new CancellationTokenSource();
        var got = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in voice.StreamAsync("This sentence is long enough to be interrupted by the caller halfway through.", bargeIn.Token))
            {
                if (++got == 2)
                {
                    await bargeIn.CancelAsync();
                }
            }
        });
        await WaitUntilAsync(() => _server.CartesiaCancelled.Count == 1);
        Assert.Single(_server.CartesiaCompleted); // the cut-off sentence never finished

        // the same socket speaks the next sentence
        var next = 0;
        await foreach (var chunk in voice.StreamAsync("Sorry, go ahead.", CancellationToken.None))
        {
            next += chunk.Samples.Length;
        }
        Assert.True(next > 4000);
        Assert.Equal(3, _server.SpokenTexts.Count);
    }

    [Fact]
    public async Task A_refused_cartesia_key_fails_the_sentence_so_the_fallback_can_speak()
    {
        var reports = new List<string>();
        using var voice = new FallbackTextToSpeech(new CartesiaTextToSpeech(Settings(key: "wrong"), 8000), new FliteTextToSpeech(), reports.Add);
        var samples = 0;
        await foreach (var chunk in voice.StreamAsync("Hello there.", CancellationToken.None))
        {
            samples += chunk.Samples.Length;
        }
        Assert.True(samples > 8000);
        Assert.Contains("check the API key", Assert.Single(reports), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAi_transcription_sends_the_utterance_as_wav_and_reads_the_text()
    {
        _server.Transcripts.Enqueue("what are your opening hours");
        using var recognizer = new OpenAiTranscriber(_http, Settings("v1/"));
        recognizer.StartUtterance();
        recognizer.Feed(Speech("what are your opening hours"));
        Assert.Equal("what are your opening hours", await recognizer.FinishUtteranceAsync());
        using var refused = new OpenAiTranscriber(_http, Settings("v1/", key: "wrong"));
        refused.StartUtterance();
        refused.Feed(new short[1600]);
        var error = await Assert.ThrowsAsync<SpeechProviderException>(async () => await refused.FinishUtteranceAsync());
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }
        Assert.True(condition());
    }
}
