using System.Net.WebSockets;
using VoiceStudio.Media.Calls;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>
/// A provider's media WebSocket as the call engine sees it: whole messages in and out. A message larger than the
/// caller's buffer (64 KiB) closes the socket with 1009, more than <see cref="MaxMessagesPerSecond"/> messages in a
/// second with 1008, each with a logged reason; a socket that drops without a close handshake reads as hang-up.
/// Ending a receive by cancellation (our hang-up) does not abort the socket, as cancelling a WebSocket read would:
/// it sends the close frame and waits (at most 2 s) for the provider's answer, so the call ends with a clean handshake.
/// </summary>
public sealed class WebSocketTransport(WebSocket socket, ILogger logger, TimeProvider? clock = null) : ICallTransport
{
    public const int MaxMessagesPerSecond = 10_000;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private long _windowStart = (clock ?? TimeProvider.System).GetTimestamp();
    private int _inWindow;

    /// <summary>Why we closed the socket, when we did.</summary>
    public string? ClosedBecause { get; private set; }

    public async ValueTask<TransportMessage> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var onCancel = cancellationToken.Register(() => _ = HangUpAsync());
        try
        {
            var length = 0;
            var binary = false;
            while (true)
            {
                if (length == buffer.Length)
                {
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"message over {buffer.Length / 1024} KiB");
                    return TransportMessage.Closed;
                }
                var result = await socket.ReceiveAsync(buffer[length..], CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, null);
                    cancellationToken.ThrowIfCancellationRequested(); // the close answered our hang-up
                    return TransportMessage.Closed;
                }
                binary = result.MessageType == WebSocketMessageType.Binary;
                length += result.Count;
                if (result.EndOfMessage)
                {
                    break;
                }
            }
            if (Flooding())
            {
                await CloseAsync(WebSocketCloseStatus.PolicyViolation, $"more than {MaxMessagesPerSecond} messages a second");
                return TransportMessage.Closed;
            }
            return new TransportMessage(length, binary);
        }
        catch (WebSocketException e)
        {
            cancellationToken.ThrowIfCancellationRequested();
            logger.LogInformation("Media socket lost: {Reason}", e.Message);
            return TransportMessage.Closed;
        }
    }

    private async Task HangUpAsync()
    {
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "call ended", CancellationToken.None);
            }
            await Task.Delay(TimeSpan.FromSeconds(2), _clock);
            if (socket.State != WebSocketState.Closed)
            {
                socket.Abort(); // the provider never answered the close
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, bool binary, CancellationToken cancellationToken)
    {
        if (socket.State != WebSocketState.Open)
        {
            return;
        }
        try
        {
            await socket.SendAsync(message, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        catch (WebSocketException e)
        {
            logger.LogInformation("Media socket lost while sending: {Reason}", e.Message);
        }
    }

    public async ValueTask CloseAsync(string reason) => await CloseAsync(WebSocketCloseStatus.NormalClosure, reason);

    private bool Flooding()
    {
        var now = _clock.GetTimestamp();
        if (_clock.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _inWindow = 0;
        }
        return ++_inWindow > MaxMessagesPerSecond;
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string? reason)
    {
        if (status != WebSocketCloseStatus.NormalClosure)
        {
            ClosedBecause = reason;
            logger.LogWarning("Closing a media socket: {Reason}", reason);
        }
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            var text = reason is { Length: > 120 } ? reason[..120] : reason;
            try
            {
                if (socket.State == WebSocketState.Open && status == WebSocketCloseStatus.NormalClosure)
                {
                    // Our hang-up: send the close and give the provider a moment to answer it (a clean handshake).
                    using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await socket.CloseAsync(status, text, patience.Token);
                }
                else
                {
                    await socket.CloseOutputAsync(status, text, CancellationToken.None);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
    }
}
