using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoiceStudio.Media.Speech.Cloud;
using VoiceStudio.Tests.Speech;

namespace VoiceStudio.Tests.Benchmarks;

/// <summary>
/// What each cloud speech adapter adds over its provider: the same request made N times through the adapter and
/// with a bare client (HttpClient or ClientWebSocket, no parsing beyond the first byte) against the local protocol
/// fake, interleaved; the figure is adapter minus bare, per percentile. The fake's own work (Flite) is in both.
/// </summary>
public static class SpeechAdapterBenchmark
{
    public static async Task<string> RunAsync(int runs)
    {
        await using var server = await CloudSpeechServer.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 });
        var settings = new CloudSpeechSettings(server.BaseUri, CloudSpeechServer.Key, null, "voice-1", "en-US");
        var v1 = settings with { BaseUrl = new Uri(server.BaseUri, "v1/") };
        var report = new StringBuilder($"speech adapter overhead over the local fakes, {runs} runs each (adapter − bare client, ms):\n");
        const string Sentence = "Your appointment is on Tuesday at nine.";

        async Task<double> FirstChunkAsync(IAsyncEnumerable<VoiceStudio.Media.Speech.AudioChunk> chunks)
        {
            var started = Stopwatch.GetTimestamp();
            await using var e = chunks.GetAsyncEnumerator();
            await e.MoveNextAsync();
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        async Task<double> BareHttpAsync(Func<HttpRequestMessage> request)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request(), HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            _ = await body.ReadAtLeastAsync(new byte[4096], 1, throwOnEndOfStream: false); // the first byte of audio
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        var openAi = new OpenAiTextToSpeech(http, v1);
        report.AppendLine(Line("OpenAI speech, first audio", await PairAsync(runs,
            () => FirstChunkAsync(openAi.StreamAsync(Sentence, CancellationToken.None)),
            () => BareHttpAsync(() =>
            {
                var r = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseUri, "v1/audio/speech"))
                {
                    Content = JsonContent.Create(new { model = "tts-1", input = Sentence, voice = "voice-1", response_format = "pcm" }),
                };
                r.Headers.Authorization = new("Bearer", CloudSpeechServer.Key);
                return r;
            }))));

        var eleven = new ElevenLabsTextToSpeech(http, settings, 8000);
        report.AppendLine(Line("ElevenLabs, first audio", await PairAsync(runs,
            () => FirstChunkAsync(eleven.StreamAsync(Sentence, CancellationToken.None)),
            () => BareHttpAsync(() =>
            {
                var r = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseUri, "v1/text-to-speech/voice-1/stream?output_format=pcm_8000"))
                {
                    Content = JsonContent.Create(new { text = Sentence, model_id = "eleven_flash_v2_5" }),
                };
                r.Headers.Add("xi-api-key", CloudSpeechServer.Key);
                return r;
            }))));

        using (var cartesia = new CartesiaTextToSpeech(settings, 8000))
        using (var bare = new ClientWebSocket())
        {
            bare.Options.SetRequestHeader("X-API-Key", CloudSpeechServer.Key);
            await bare.ConnectAsync(new Uri($"ws://{server.BaseUri.Authority}/tts/websocket"), CancellationToken.None);
            var buffer = new byte[256 * 1024];
            report.AppendLine(Line("Cartesia, first audio", await PairAsync(runs,
                () => FirstChunkAsync(cartesia.StreamAsync(Sentence, CancellationToken.None)),
                async () =>
                {
                    var context = Guid.NewGuid().ToString("N");
                    var started = Stopwatch.GetTimestamp();
                    await bare.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new
                    {
                        model_id = "sonic-2",
                        transcript = Sentence,
                        voice = new { mode = "id", id = "voice-1" },
                        language = "en",
                        context_id = context,
                        output_format = new { container = "raw", encoding = "pcm_s16le", sample_rate = 8000 },
                        @continue = false,
                    }), WebSocketMessageType.Text, true, CancellationToken.None);
                    while (true) // chunks of earlier, cancelled contexts may still be on their way: wait for this one's
                    {
                        var result = await bare.ReceiveAsync(buffer, CancellationToken.None);
                        if (Encoding.UTF8.GetString(buffer, 0, result.Count).Contains(context, StringComparison.Ordinal))
                        {
                            break;
                        }
                    }
                    var first = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    await bare.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new { context_id = context, cancel = true }), WebSocketMessageType.Text, true, CancellationToken.None);
                    return first;
                })));
        }

        var speech = new short[16000];
        using (var deepgram = new DeepgramRecognizer(settings))
        using (var bare = new ClientWebSocket())
        {
            bare.Options.SetRequestHeader("Authorization", $"Token {CloudSpeechServer.Key}");
            await bare.ConnectAsync(DeepgramRecognizer.ListenUri(settings), CancellationToken.None);
            var buffer = new byte[64 * 1024];
            report.AppendLine(Line("Deepgram, end of turn → final transcript", await PairAsync(runs,
                async () =>
                {
                    server.Transcripts.Enqueue("book an appointment");
                    deepgram.StartUtterance();
                    deepgram.Feed(speech);
                    await Task.Delay(30); // the audio is on its way before the turn ends, as in a call
                    var started = Stopwatch.GetTimestamp();
                    await deepgram.FinishUtteranceAsync();
                    return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                },
                async () =>
                {
                    server.Transcripts.Enqueue("book an appointment");
                    await bare.SendAsync(new byte[32000], WebSocketMessageType.Binary, true, CancellationToken.None);
                    await Task.Delay(30);
                    var started = Stopwatch.GetTimestamp();
                    await bare.SendAsync("""{"type":"Finalize"}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                    while (true)
                    {
                        var result = await bare.ReceiveAsync(buffer, CancellationToken.None);
                        if (Encoding.UTF8.GetString(buffer, 0, result.Count).Contains("\"from_finalize\":true", StringComparison.Ordinal))
                        {
                            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        }
                    }
                })));
        }
        return report.ToString();
    }

    private static async Task<(List<double> Adapter, List<double> Bare)> PairAsync(int runs, Func<Task<double>> adapter, Func<Task<double>> bare)
    {
        for (var i = 0; i < 5; i++)
        {
            await adapter();
            await bare();
        }
        var a = new List<double>();
        var b = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            a.Add(await adapter());
            b.Add(await bare());
        }
        return (a, b);
    }

    private static string Line(string what, (List<double> Adapter, List<double> Bare) times)
    {
        static double P(List<double> values, double p)
        {
            var sorted = values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        }
        string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        return $"  {what}: adapter p50 {F(P(times.Adapter, 0.5))} / p95 {F(P(times.Adapter, 0.95))}; bare p50 {F(P(times.Bare, 0.5))} / p95 {F(P(times.Bare, 0.95))}; "
            + $"added p50 {F(P(times.Adapter, 0.5) - P(times.Bare, 0.5))} / p95 {F(P(times.Adapter, 0.95) - P(times.Bare, 0.95))}";
    }
}
