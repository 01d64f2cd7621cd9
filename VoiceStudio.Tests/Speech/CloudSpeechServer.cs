using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceStudio.Media.Audio;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Tests.Speech;

/// <summary>
/// A loopback server speaking the documented wire protocols of the cloud speech providers, so the adapters and the
/// call engine are tested without the internet: Deepgram live (<c>/v1/listen</c> WebSocket: binary audio in,
/// <c>Results</c> JSON out, <c>Finalize</c>, <c>KeepAlive</c>, <c>CloseStream</c>), OpenAI speech and transcription
/// (<c>/v1/audio/speech</c> streaming raw 24 kHz PCM, <c>/v1/audio/transcriptions</c> multipart), and ElevenLabs
/// (<c>/v1/text-to-speech/{voice}/stream</c> raw PCM at the asked rate). Speech is real (Flite), chunked with pauses.
/// Keys other than <see cref="Key"/> get each provider's 401.
/// </summary>
public sealed class CloudSpeechServer : IAsyncDisposable
{
    public const string Key = "test-speech-key";
    private WebApplication? _app;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>What the fake "hears": each Finalize (or transcription request) takes the next line, then repeats the last.</summary>
    public ConcurrentQueue<string> Transcripts { get; } = new();
    public ConcurrentQueue<string> SpokenTexts { get; } = new();

    /// <summary>The audio of the last sentence served, as sent.</summary>
    public short[] LastSpokenSamples { get; private set; } = [];
    public ConcurrentQueue<string> DeepgramControl { get; } = new();
    public ConcurrentQueue<string> DeepgramQueries { get; } = new();
    private long _deepgramAudioBytes;
    private int _deepgramConnections;
    private int _speechRequestsCancelled;

    public long DeepgramAudioBytes => Interlocked.Read(ref _deepgramAudioBytes);
    public int DeepgramConnections => Volatile.Read(ref _deepgramConnections);
    public int SpeechRequestsCancelled => Volatile.Read(ref _speechRequestsCancelled);

    /// <summary>When set, the next Deepgram socket is dropped (closed by the server) after this many audio bytes.</summary>
    public int? DropDeepgramAfterBytes { get; set; }

    private string _last = "";

    private string NextTranscript()
    {
        if (Transcripts.TryDequeue(out var next))
        {
            _last = next;
        }
        return _last;
    }

    public static async Task<CloudSpeechServer> StartAsync()
    {
        var server = new CloudSpeechServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/v1/listen", server.DeepgramAsync);
        app.MapPost("/v1/audio/speech", server.OpenAiSpeechAsync);
        app.MapPost("/v1/audio/transcriptions", server.OpenAiTranscriptionAsync);
        app.MapPost("/v1/text-to-speech/{voice}/stream", server.ElevenLabsAsync);
        app.Map("/tts/websocket", server.CartesiaAsync);
        await app.StartAsync();
        server._app = app;
        server.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return server;
    }

    private async Task DeepgramAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Token {Key}")
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { err_code = "INVALID_AUTH", err_msg = "Invalid credentials." });
            return;
        }
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = 400;
            return;
        }
        DeepgramQueries.Enqueue(http.Request.QueryString.Value ?? "");
        Interlocked.Increment(ref _deepgramConnections);
        var dropAfter = DropDeepgramAfterBytes;
        DropDeepgramAfterBytes = null;
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        long received = 0;
        async Task SendAsync(object message) =>
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                return;
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                return;
            }
            if (result.MessageType == WebSocketMessageType.Binary)
            {
                received += result.Count;
                Interlocked.Add(ref _deepgramAudioBytes, result.Count);
                if (dropAfter is { } limit && received > limit)
                {
                    http.Abort(); // the provider's socket drops mid-call
                    return;
                }
                if (received % 32000 < result.Count)
                {
                    await SendAsync(Results("", isFinal: false, fromFinalize: false)); // an interim result now and then
                }
                continue;
            }
            var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
            var type = JsonNode.Parse(text)?["type"]?.ToString() ?? "";
            DeepgramControl.Enqueue(type);
            switch (type)
            {
                case "Finalize":
                    var heard = NextTranscript();
                    await SendAsync(Results(heard.Split(' ')[0], isFinal: false, fromFinalize: false));
                    await SendAsync(Results(heard, isFinal: true, fromFinalize: true));
                    break;
                case "CloseStream":
                    await SendAsync(new { type = "Metadata", request_id = Guid.NewGuid(), duration = received / 32000.0 });
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    return;
            }
        }
    }

    private static object Results(string transcript, bool isFinal, bool fromFinalize) => new
    {
        type = "Results",
        channel_index = new[] { 0, 1 },
        duration = 1.0,
        start = 0.0,
        is_final = isFinal,
        speech_final = isFinal,
        from_finalize = fromFinalize,
        channel = new { alternatives = new[] { new { transcript, confidence = 0.98, words = Array.Empty<object>() } } },
    };

    private async Task OpenAiSpeechAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Bearer {Key}")
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "Incorrect API key provided.", type = "invalid_request_error", code = "invalid_api_key" } });
            return;
        }
        var body = await JsonNode.ParseAsync(http.Request.Body);
        if (body?["response_format"]?.ToString() != "pcm")
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "this fake speaks pcm only" } });
            return;
        }
        await StreamSpeechAsync(http, body["input"]!.ToString(), 24000);
    }

    private async Task ElevenLabsAsync(HttpContext http, string voice)
    {
        if (http.Request.Headers["xi-api-key"].ToString() != Key)
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { detail = new { status = "invalid_api_key", message = "Invalid API key" } });
            return;
        }
        var format = http.Request.Query["output_format"].ToString();
        if (!format.StartsWith("pcm_", StringComparison.Ordinal) || !int.TryParse(format[4..], out var rate))
        {
            http.Response.StatusCode = 422;
            return;
        }
        var body = await JsonNode.ParseAsync(http.Request.Body);
        await StreamSpeechAsync(http, body!["text"]!.ToString(), rate);
    }

    private async Task StreamSpeechAsync(HttpContext http, string text, int rate)
    {
        SpokenTexts.Enqueue(text);
        using var speech = FliteSynthesizer.Shared.Synthesize(text);
        var samples = PhoneLine.Resample(speech.Samples, speech.SampleRate, rate);
        LastSpokenSamples = samples;
        var bytes = new byte[samples.Length * 2];
        Buffer.BlockCopy(samples, 0, bytes, 0, bytes.Length);
        http.Response.ContentType = "application/octet-stream";
        var chunk = rate / 10 * 2 + 1; // odd-sized chunks: samples split across network reads
        try
        {
            for (var offset = 0; offset < bytes.Length; offset += chunk)
            {
                await http.Response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
                await Task.Delay(20, http.RequestAborted);
            }
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            Interlocked.Increment(ref _speechRequestsCancelled); // the caller cut the agent off
        }
    }

    public ConcurrentQueue<string> CartesiaCancelled { get; } = new();
    public ConcurrentQueue<string> CartesiaCompleted { get; } = new();

    private async Task CartesiaAsync(HttpContext http)
    {
        if (http.Request.Headers["X-API-Key"].ToString() != Key && http.Request.Query["api_key"].ToString() != Key)
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = "Invalid API key" });
            return;
        }
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = 400;
            return;
        }
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var cancelled = new ConcurrentDictionary<string, bool>();
        var sending = new SemaphoreSlim(1, 1);
        async Task SendAsync(object message)
        {
            await sending.WaitAsync();
            try
            {
                await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
            }
            finally
            {
                sending.Release();
            }
        }
        var generations = new List<Task>();
        var buffer = new byte[64 * 1024];
        while (socket.State == WebSocketState.Open)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                return;
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await Task.WhenAll(generations);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                return;
            }
            var request = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count))!;
            var context = request["context_id"]!.ToString();
            if (request["cancel"]?.GetValue<bool>() == true)
            {
                cancelled[context] = true;
                CartesiaCancelled.Enqueue(context);
                continue;
            }
            var format = request["output_format"]!;
            if (format["encoding"]?.ToString() != "pcm_s16le" || request["voice"]?["id"] is null)
            {
                await SendAsync(new { type = "error", done = true, status_code = 400, error = "output_format.encoding must be pcm_s16le and voice.id is required", context_id = context });
                continue;
            }
            var rate = format["sample_rate"]!.GetValue<int>();
            var text = request["transcript"]!.ToString();
            SpokenTexts.Enqueue(text);
            generations.Add(Task.Run(async () =>
            {
                using var speech = FliteSynthesizer.Shared.Synthesize(text);
                var samples = PhoneLine.Resample(speech.Samples, speech.SampleRate, rate);
                var bytes = new byte[samples.Length * 2];
                Buffer.BlockCopy(samples, 0, bytes, 0, bytes.Length);
                for (var offset = 0; offset < bytes.Length; offset += rate / 10 * 2)
                {
                    if (cancelled.ContainsKey(context))
                    {
                        return;
                    }
                    var piece = Convert.ToBase64String(bytes, offset, Math.Min(rate / 10 * 2, bytes.Length - offset));
                    await SendAsync(new { type = "chunk", data = piece, done = false, status_code = 206, step_time = 20, context_id = context });
                    await Task.Delay(20);
                }
                CartesiaCompleted.Enqueue(context);
                await SendAsync(new { type = "done", done = true, status_code = 206, context_id = context });
            }));
        }
    }

    private async Task OpenAiTranscriptionAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Bearer {Key}")
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "Incorrect API key provided.", type = "invalid_request_error" } });
            return;
        }
        var form = await http.Request.ReadFormAsync();
        if (form.Files["file"] is not { Length: > 44 } || string.IsNullOrEmpty(form["model"]))
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "file and model are required" } });
            return;
        }
        await http.Response.WriteAsJsonAsync(new { text = NextTranscript() });
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
