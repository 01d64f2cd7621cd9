using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Media.Speech.Cloud;

/// <summary>
/// Cartesia over one WebSocket per call (<c>{base}/tts/websocket</c>, headers <c>X-API-Key</c> and
/// <c>Cartesia-Version</c>), opened when the call starts. Each sentence is its own context id; chunks come back as
/// base64 PCM at the call's rate (no resampling on a phone line) and are routed by context id, so a barge-in cancels
/// exactly the sentence being spoken (<c>{"context_id", "cancel": true}</c>) while the socket stays up for the next.
/// </summary>
public sealed class CartesiaTextToSpeech : IStreamingTextToSpeech, IFailingSpeech, IDisposable
{
    public const string ApiVersion = "2024-11-13";

    private readonly CloudSpeechSettings _settings;
    private readonly SpeechUsage? _usage;
    private readonly ClientWebSocket _socket = new();
    private readonly Task _connected;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ConcurrentDictionary<string, Channel<AudioChunk>> _contexts = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Exception? _failure;

    public CartesiaTextToSpeech(CloudSpeechSettings settings, int callRate, SpeechUsage? usage = null)
    {
        _settings = settings;
        _usage = usage;
        SampleRate = callRate is 8000 or 16000 or 22050 or 24000 or 44100 ? callRate : 16000;
        _socket.Options.SetRequestHeader("X-API-Key", settings.ApiKey);
        _socket.Options.SetRequestHeader("Cartesia-Version", ApiVersion);
        var root = settings.BaseUrl.ToString().TrimEnd('/');
        if (root.StartsWith("http", StringComparison.Ordinal))
        {
            root = "ws" + root[4..];
        }
        _connected = ConnectAsync(new Uri($"{root}/tts/websocket"));
    }

    public int SampleRate { get; }

    public Exception? Failure => Volatile.Read(ref _failure);

    private async Task ConnectAsync(Uri uri)
    {
        try
        {
            await _socket.ConnectAsync(uri, _stop.Token);
            _ = ReceiveLoopAsync();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            Fail(new SpeechProviderException($"cartesia at {_settings.BaseUrl} refused the connection ({e.Message}; check the API key)", e));
        }
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        foreach (var (_, channel) in _contexts)
        {
            channel.Writer.TryComplete(e);
        }
    }

    public async IAsyncEnumerable<AudioChunk> StreamAsync(string text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _connected;
        if (Failure is { } failed)
        {
            throw failed;
        }
        var context = Guid.NewGuid().ToString("N");
        var channel = Channel.CreateUnbounded<AudioChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _contexts[context] = channel;
        var finished = false;
        try
        {
            await SendAsync(new
            {
                model_id = _settings.Model ?? "sonic-2",
                transcript = text,
                voice = new { mode = "id", id = _settings.Voice ?? "a0e99841-438c-4a64-b679-ae501e7d6091" },
                language = _settings.Language.Split('-')[0],
                context_id = context,
                output_format = new { container = "raw", encoding = "pcm_s16le", sample_rate = SampleRate },
                @continue = false,
            }, cancellationToken);
            _usage?.Spoke(text.Length);
            await foreach (var chunk in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return chunk;
            }
            finished = true;
        }
        finally
        {
            _contexts.TryRemove(context, out _);
            if (!finished && Failure is null && _socket.State == WebSocketState.Open)
            {
                // cut off (a barge-in): stop this context's generation, keep the socket for the next sentence
                _ = SendAsync(new { context_id = context, cancel = true }, CancellationToken.None);
            }
        }
    }

    private async Task SendAsync(object message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message);
        await _sending.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, cancellationToken);
        }
        catch (WebSocketException e)
        {
            Fail(new SpeechProviderException($"cartesia: {e.Message}", e));
            throw Failure!;
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Fail(new SpeechProviderException($"cartesia closed the socket: {result.CloseStatus} {result.CloseStatusDescription}"));
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    Handle(message.ToArray());
                    message.SetLength(0);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or JsonException)
        {
            if (!_stop.IsCancellationRequested)
            {
                Fail(new SpeechProviderException($"cartesia: {e.Message}", e));
            }
        }
    }

    private void Handle(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var context = root.TryGetProperty("context_id", out var c) ? c.GetString() : null;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (context is null || !_contexts.TryGetValue(context, out var channel))
        {
            if (type == "error" && context is null)
            {
                Fail(new SpeechProviderException($"cartesia error: {root.GetRawText()}"));
            }
            return; // a cancelled context's last chunks
        }
        switch (type)
        {
            case "chunk" when root.TryGetProperty("data", out var data):
                var bytes = data.GetBytesFromBase64();
                var samples = new short[bytes.Length / 2];
                for (var i = 0; i < samples.Length; i++)
                {
                    samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(i * 2));
                }
                channel.Writer.TryWrite(new AudioChunk(samples, SampleRate));
                break;
            case "done":
                channel.Writer.TryComplete();
                break;
            case "error":
                var text = root.TryGetProperty("error", out var error) ? error.ToString() : root.TryGetProperty("message", out var m) ? m.ToString() : root.GetRawText();
                channel.Writer.TryComplete(new SpeechProviderException($"cartesia error: {text}"));
                break;
        }
    }

    public async Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
        await SpeechStreams.CollectAsync(StreamAsync(text, cancellationToken), SampleRate);

    public void Dispose()
    {
        _ = Task.Run(async () =>
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "call ended", limit.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // already gone
            }
            finally
            {
                await _stop.CancelAsync();
                _socket.Dispose();
                _sending.Dispose();
                _stop.Dispose();
            }
        });
    }
}
