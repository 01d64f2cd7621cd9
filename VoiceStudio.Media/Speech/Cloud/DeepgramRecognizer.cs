using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace VoiceStudio.Media.Speech.Cloud;

/// <summary>
/// Deepgram live transcription over one WebSocket per call (<c>{base}/v1/listen</c>, <c>Authorization: Token KEY</c>).
/// The engine's own VAD decides turns: audio is streamed while the caller speaks (16 kHz linear16), and at the end of
/// the turn a <c>Finalize</c> message makes Deepgram send the utterance's last final result (<c>from_finalize</c>) at
/// once. Interim results feed <see cref="Partial"/> (the barge-in word count). <c>KeepAlive</c> every 5 s of silence
/// holds the socket open; <c>CloseStream</c> ends it with the call. Audio is handed to a sender task through a
/// channel of pooled buffers: the call's receive loop never waits on the network.
/// </summary>
public sealed class DeepgramRecognizer : ISpeechRecognizer, IFailingSpeech, IMuLawRecognizer, IInterimTiming
{
    private static readonly TimeSpan FinalizeTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(5);

    private readonly CloudSpeechSettings _settings;
    private readonly SpeechUsage? _usage;
    private readonly ClientWebSocket _socket = new();
    private readonly Channel<(byte[] Buffer, int Length, string? Control)> _outgoing =
        Channel.CreateBounded<(byte[], int, string?)>(new BoundedChannelOptions(2000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _connected;
    private readonly Task _running;
    private readonly StringBuilder _finals = new();
    private readonly object _gate = new();
    private string _interim = "";
    private TaskCompletionSource<string>? _finishing;
    private Exception? _failure;

    private readonly bool _muLaw;

    /// <param name="muLaw8k">The call's line is 8 kHz μ-law: the stream is opened as <c>encoding=mulaw&amp;sample_rate=8000</c>
    /// and the caller's bytes go to Deepgram as they came (<see cref="FeedMuLaw"/>), no decoding or resampling.</param>
    public DeepgramRecognizer(CloudSpeechSettings settings, SpeechUsage? usage = null, bool muLaw8k = false)
    {
        _settings = settings;
        _usage = usage;
        _muLaw = muLaw8k;
        _socket.Options.SetRequestHeader("Authorization", $"Token {settings.ApiKey}");
        _connected = _socket.ConnectAsync(ListenUri(settings, muLaw8k), _stop.Token);
        _running = RunAsync();
    }

    /// <summary>Time from the end of the turn to the final transcript, of the last utterance.</summary>
    public TimeSpan? LastFinalLatency { get; private set; }

    /// <summary>The socket failed or closed: the fallback takes over.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public bool AcceptsMuLaw => _muLaw && Failure is null;

    public void FeedMuLaw(ReadOnlySpan<byte> muLaw8k)
    {
        if (muLaw8k.IsEmpty || Failure is not null)
        {
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(muLaw8k.Length);
        muLaw8k.CopyTo(buffer);
        _usage?.Heard(muLaw8k.Length * 2); // counted in 16 kHz samples, like the linear feed
        if (!_outgoing.Writer.TryWrite((buffer, muLaw8k.Length, null)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static Uri ListenUri(CloudSpeechSettings s, bool muLaw8k = false)
    {
        var root = s.BaseUrl.ToString().TrimEnd('/');
        if (root.StartsWith("http", StringComparison.Ordinal))
        {
            root = "ws" + root[4..];
        }
        var query = $"model={Uri.EscapeDataString(s.Model ?? "nova-2-phonecall")}&language={Uri.EscapeDataString(s.Language)}"
            + $"&encoding={(muLaw8k ? "mulaw" : "linear16")}&sample_rate={(muLaw8k ? 8000 : 16000)}&channels=1"
            + $"&interim_results={s.Option("interim_results", "true")}&endpointing={s.Option("endpointing_ms", "300")}"
            + $"&utterance_end_ms={s.Option("utterance_end_ms", "1000")}&smart_format=true&punctuate=true";
        return new Uri($"{root}/v1/listen?{query}");
    }

    public void ExpectPhrases(IReadOnlyList<string>? phrases)
    {
        // Deepgram listens to everything; the flow's phrases bias the embedded recognizer only.
    }

    private long _utteranceStarted;
    private long _firstInterimTicks;

    /// <summary>When the first text of the current utterance came back, from its start.</summary>
    public TimeSpan? FirstInterim => Interlocked.Read(ref _firstInterimTicks) is > 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    public void StartUtterance()
    {
        lock (_gate)
        {
            _finals.Clear();
            _interim = "";
        }
        Interlocked.Exchange(ref _firstInterimTicks, 0);
        Volatile.Write(ref _utteranceStarted, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    public void Feed(ReadOnlySpan<short> samples16k)
    {
        if (samples16k.IsEmpty || Failure is not null)
        {
            return;
        }
        var bytes = MemoryMarshal.AsBytes(samples16k);
        var buffer = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buffer);
        _usage?.Heard(samples16k.Length);
        if (!_outgoing.Writer.TryWrite((buffer, bytes.Length, null)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public string Partial()
    {
        lock (_gate)
        {
            return (_finals + " " + _interim).Trim();
        }
    }

    public async ValueTask<string> FinishUtteranceAsync()
    {
        if (Failure is { } failed)
        {
            throw failed as SpeechProviderException ?? new SpeechProviderException($"deepgram: {failed.Message}", failed);
        }
        var finishing = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _finishing = finishing;
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _outgoing.Writer.TryWrite(([], 0, """{"type":"Finalize"}"""));
        await Task.WhenAny(finishing.Task, Task.Delay(FinalizeTimeout));
        LastFinalLatency = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (Failure is { } lost)
        {
            throw lost as SpeechProviderException ?? new SpeechProviderException($"deepgram: {lost.Message}", lost);
        }
        lock (_gate)
        {
            _finishing = null;
            var text = _finals.ToString().Trim();
            _finals.Clear();
            _interim = "";
            return text;
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await _connected;
            var sending = SendLoopAsync();
            await ReceiveLoopAsync();
            await sending;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidOperationException or HttpRequestException)
        {
            if (!_stop.IsCancellationRequested)
            {
                Fail(new SpeechProviderException(Describe(e), e));
            }
        }
    }

    private string Describe(Exception e) => e is WebSocketException { WebSocketErrorCode: WebSocketError.NotAWebSocket } w
        ? $"deepgram at {_settings.BaseUrl} refused the connection ({w.Message}; check the API key)"
        : $"deepgram at {_settings.BaseUrl}: {e.Message}";

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        TaskCompletionSource<string>? finishing;
        lock (_gate)
        {
            finishing = _finishing;
        }
        finishing?.TrySetException(e);
    }

    private async Task SendLoopAsync()
    {
        var reader = _outgoing.Reader;
        while (!_stop.IsCancellationRequested)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            wait.CancelAfter(KeepAliveEvery);
            (byte[] Buffer, int Length, string? Control) item;
            try
            {
                if (!await reader.WaitToReadAsync(wait.Token))
                {
                    break;
                }
                if (!reader.TryRead(out item))
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                await _socket.SendAsync("""{"type":"KeepAlive"}"""u8.ToArray(), WebSocketMessageType.Text, true, _stop.Token);
                continue;
            }
            try
            {
                if (item.Control is { } control)
                {
                    await _socket.SendAsync(Encoding.UTF8.GetBytes(control), WebSocketMessageType.Text, true, _stop.Token);
                }
                else
                {
                    await _socket.SendAsync(item.Buffer.AsMemory(0, item.Length), WebSocketMessageType.Binary, true, _stop.Token);
                }
            }
            finally
            {
                if (item.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer);
                }
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[16 * 1024];
        var message = new MemoryStream();
        while (_socket.State == WebSocketState.Open)
        {
            var result = await _socket.ReceiveAsync(buffer, _stop.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (!_stop.IsCancellationRequested)
                {
                    Fail(new SpeechProviderException($"deepgram closed the stream: {result.CloseStatus} {result.CloseStatusDescription}"));
                }
                return;
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            Handle(message.GetBuffer().AsSpan(0, (int)message.Length));
            message.SetLength(0);
        }
    }

    private void Handle(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "Error" || root.TryGetProperty("err_code", out _))
        {
            Fail(new SpeechProviderException($"deepgram error: {root.GetRawText()}"));
            return;
        }
        if (type != "Results")
        {
            return;
        }
        var transcript = root.TryGetProperty("channel", out var channel) && channel.TryGetProperty("alternatives", out var alternatives)
            && alternatives.GetArrayLength() > 0 && alternatives[0].TryGetProperty("transcript", out var tr) ? tr.GetString() ?? "" : "";
        var isFinal = root.TryGetProperty("is_final", out var f) && f.ValueKind == JsonValueKind.True;
        var fromFinalize = root.TryGetProperty("from_finalize", out var ff) && ff.ValueKind == JsonValueKind.True;
        if (transcript.Length > 0 && Interlocked.Read(ref _firstInterimTicks) == 0 && Volatile.Read(ref _utteranceStarted) is var started and > 0)
        {
            Interlocked.CompareExchange(ref _firstInterimTicks, Math.Max(1, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks), 0);
        }
        TaskCompletionSource<string>? finishing;
        lock (_gate)
        {
            if (isFinal)
            {
                if (transcript.Length > 0)
                {
                    _finals.Append(' ').Append(transcript);
                }
                _interim = "";
            }
            else
            {
                _interim = transcript;
            }
            finishing = fromFinalize ? _finishing : null;
        }
        finishing?.TrySetResult(transcript);
    }

    /// <summary>Ends the stream in the background (<c>CloseStream</c>, then the close handshake): the call's end never waits on the network.</summary>
    public void Dispose()
    {
        _outgoing.Writer.TryComplete();
        _ = Task.Run(async () =>
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.SendAsync("""{"type":"CloseStream"}"""u8.ToArray(), WebSocketMessageType.Text, true, limit.Token);
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "call ended", limit.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // the provider is gone already
            }
            finally
            {
                await _stop.CancelAsync();
                _socket.Dispose();
                _stop.Dispose();
            }
        });
    }
}
