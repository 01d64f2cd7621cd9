using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Telephony.Browser;
using VoiceStudio.Web.Features.Agents;
using VoiceStudio.Web.Features.Auth;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>
/// <c>/ws/browser/{agent}</c> (SPEC §5): the designer's test console talks to an agent from the browser, as a
/// signed-in admin or designer. <c>?mode=audio</c> (default) streams PCM16 16 kHz both ways as binary messages;
/// <c>?mode=text</c> exchanges typed turns only. Either way the call runs through the same engine and flow runtime as
/// a phone call, is stored as a test call, and the socket also carries the call's reports as JSON (see
/// <see cref="BrowserEvents"/>) so the console can show the transcript, the active node and the event log.
/// </summary>
public static class BrowserEndpoints
{
    public static IEndpointRouteBuilder MapBrowserEndpoints(this IEndpointRouteBuilder app)
    {
        app.Map("/ws/browser/{agent}", async (HttpContext http, string agent, AgentRuntimeLoader loader, CallHost host) =>
        {
            var mode = http.Request.Query["mode"].ToString();
            if (mode is not ("" or "audio" or "text"))
            {
                return Results.Json(new { detail = $"mode '{mode}' is not audio or text" }, statusCode: StatusCodes.Status400BadRequest);
            }
            if (!http.WebSockets.IsWebSocketRequest)
            {
                return Results.Json(new { detail = "this endpoint is a WebSocket: connect with a WebSocket upgrade" }, statusCode: StatusCodes.Status400BadRequest);
            }
            var runtime = await loader.LoadAsync(agent, http.RequestAborted);
            if (runtime is null)
            {
                return Results.Json(new { detail = $"agent '{agent}' does not exist" }, statusCode: StatusCodes.Status404NotFound);
            }
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            using var transport = new BrowserTransport(new WebSocketTransport(socket, host.Logger));
            await host.RunTestAsync(transport, runtime, http.User.Identity?.Name ?? "browser", textOnly: mode == "text", http.RequestAborted);
            return Results.Empty;
        }).RequireAuthorization(AuthSetup.Designers).ExcludeFromDescription();
        return app;
    }
}

/// <summary>
/// The browser socket: the session's messages (binary audio, marks, clear) plus the call's reports as JSON text
/// messages. Reports are queued and sent by one pump, so the session's threads never wait on the browser, and every
/// send holds one lock, so a report and an audio frame never interleave on the socket.
/// </summary>
public sealed class BrowserTransport(WebSocketTransport inner) : ICallTransport, IDisposable
{
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly Channel<byte[]> _reports = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _stopReading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _onStop;
    private Task<TransportMessage>? _receiving;
    private Task? _pump;

    /// <summary>
    /// When the call ends on our side, the read stops at once but the socket stays open, unlike a provider's: the
    /// browser still gets the call's last reports (the end) and then the close handshake, from <see cref="CloseAsync"/>.
    /// </summary>
    public async ValueTask<TransportMessage> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_onStop == default)
        {
            _onStop = cancellationToken.Register(() => _stopReading.TrySetResult());
        }
        _receiving ??= inner.ReceiveAsync(buffer, CancellationToken.None).AsTask();
        if (!_receiving.IsCompleted && await Task.WhenAny(_receiving, _stopReading.Task) != _receiving)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        var received = await _receiving;
        _receiving = null;
        return received;
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, bool binary, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            await inner.SendAsync(message, binary, cancellationToken);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Queues one JSON report for the browser.</summary>
    public void Report(byte[] json)
    {
        _pump ??= Task.Run(PumpAsync);
        _reports.Writer.TryWrite(json);
    }

    public async ValueTask CloseAsync(string reason)
    {
        _reports.Writer.TryComplete();
        if (_pump is { } pump)
        {
            await pump.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default); // the end report goes out first
        }
        await inner.CloseAsync(reason);
    }

    public void Dispose()
    {
        _onStop.Dispose();
        _sending.Dispose();
    }

    private async Task PumpAsync()
    {
        await foreach (var report in _reports.Reader.ReadAllAsync())
        {
            await SendAsync(report, binary: false, CancellationToken.None);
        }
    }
}

/// <summary>
/// The call's reports, stored as usual by the inner observer and also sent to the browser as JSON messages:
/// <c>started</c> {call_id, agent, mode, sample_rate}, <c>transcript</c> {role: caller|agent, text, at_ms},
/// <c>node</c> {node, type}, <c>interruption</c> {spoken}, <c>dtmf</c> {digit}, <c>idle</c> {times},
/// <c>latency</c> {turn parts in ms}, <c>trace</c> {type, data} for every flow event (tools, variables, warnings),
/// and <c>end</c> {reason, by_agent, transfer_to} just before the socket closes.
/// </summary>
public sealed class BrowserEvents(CallRecordWriter inner, BrowserTransport browser, string agent, bool textOnly) : ICallObserver
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Started(StreamInfo stream)
    {
        inner.Started(stream);
        Send(new { @event = "started", call_id = inner.CallId, agent, mode = textOnly ? "text" : "audio", sample_rate = BrowserSerializer.AudioRate });
    }

    public void UserSpoke(string text, TimeSpan at)
    {
        inner.UserSpoke(text, at);
        Send(new { @event = "transcript", role = "caller", text, at_ms = (long)at.TotalMilliseconds });
    }

    public void AgentSpoke(string text, TimeSpan at)
    {
        inner.AgentSpoke(text, at);
        Send(new { @event = "transcript", role = "agent", text, at_ms = (long)at.TotalMilliseconds });
    }

    public void Interrupted(string spoken, TimeSpan at)
    {
        inner.Interrupted(spoken, at);
        Send(new { @event = "interruption", spoken, at_ms = (long)at.TotalMilliseconds });
    }

    public void Dtmf(char digit, TimeSpan at)
    {
        inner.Dtmf(digit, at);
        Send(new { @event = "dtmf", digit = digit.ToString() });
    }

    public void UserIdle(int times, TimeSpan at)
    {
        inner.UserIdle(times, at);
        Send(new { @event = "idle", times });
    }

    public void TurnMeasured(TurnLatency latency)
    {
        inner.TurnMeasured(latency);
        Send(new
        {
            @event = "latency",
            turn = latency.Turn,
            stt_final_ms = Math.Round(latency.SttFinalMs, 1),
            first_reply_text_ms = Math.Round(latency.FirstReplyTextMs, 1),
            first_tts_audio_ms = Math.Round(latency.FirstTtsAudioMs, 1),
            first_audio_sent_ms = Math.Round(latency.FirstAudioSentMs, 1),
        });
    }

    public void GreetingMeasured(double firstAudioMs) => inner.GreetingMeasured(firstAudioMs);

    public void Traced(Trace trace)
    {
        inner.Traced(trace);
        if (trace.Type == Data.Calls.CallEventTypes.NodeEntered)
        {
            Send(new { @event = "node", node = trace.Data.GetValueOrDefault("node"), type = trace.Data.GetValueOrDefault("type") });
        }
        Send(new { @event = "trace", type = trace.Type, data = trace.Data });
    }

    public void Ended(CallEnd end)
    {
        inner.Ended(end);
        Send(new { @event = "end", reason = end.Reason, by_agent = end.ByAgent, transfer_to = end.TransferTo });
    }

    private void Send(object report) => browser.Report(JsonSerializer.SerializeToUtf8Bytes(report, Json));
}
