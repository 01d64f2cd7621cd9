using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Telephony;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Features.Calls;

namespace VoiceStudio.Tests.Calls;

/// <summary>The transport over a real Kestrel WebSocket, with a real client on the other end.</summary>
public sealed class WebSocketTransportTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _received = new();
    private readonly TaskCompletionSource<string?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _frozen = new();
    private WebApplication? _app;
    private Uri _uri = null!;

    public async Task InitializeAsync()
    {
        var port = AppProcess.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Map("/ws", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var transport = new WebSocketTransport(socket, NullLogger.Instance, _frozen); // a second never passes
            var buffer = new byte[TelephonySerializer.MaxMessageBytes];
            TransportMessage message;
            while (!(message = await transport.ReceiveAsync(buffer, CancellationToken.None)).IsClosed)
            {
                _received.Enqueue(message.Binary ? $"binary {message.Length}" : Encoding.UTF8.GetString(buffer, 0, message.Length));
                await transport.SendAsync(Encoding.UTF8.GetBytes($"ack {message.Length}"), message.Binary, CancellationToken.None);
            }
            _closed.TrySetResult(transport.ClosedBecause);
        });
        await _app.StartAsync();
        _uri = new Uri($"ws://127.0.0.1:{port}/ws");
    }

    public async Task DisposeAsync() => await _app!.DisposeAsync();

    [Fact]
    public async Task Fragmented_messages_arrive_whole_and_replies_go_back()
    {
        using var client = new ClientWebSocket();
        await client.ConnectAsync(_uri, CancellationToken.None);
        await client.SendAsync(Encoding.UTF8.GetBytes("{\"event\":"), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await client.SendAsync(Encoding.UTF8.GetBytes("\"media\"}"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var reply = new byte[100];
        var result = await client.ReceiveAsync(reply, CancellationToken.None);
        Assert.Equal("ack 17", Encoding.UTF8.GetString(reply, 0, result.Count));
        Assert.Equal(["{\"event\":\"media\"}"], _received);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Null(await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Binary_messages_are_told_apart_from_text_both_ways()
    {
        using var client = new ClientWebSocket();
        await client.ConnectAsync(_uri, CancellationToken.None);
        await client.SendAsync(new byte[640], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var reply = new byte[100];
        var result = await client.ReceiveAsync(reply, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
        Assert.Equal("ack 640", Encoding.UTF8.GetString(reply, 0, result.Count));
        await client.SendAsync(Encoding.UTF8.GetBytes("{}"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        result = await client.ReceiveAsync(reply, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.Equal(["binary 640", "{}"], _received);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
    }

    [Fact]
    public async Task A_message_over_64_KiB_closes_the_socket_with_1009()
    {
        using var client = new ClientWebSocket();
        await client.ConnectAsync(_uri, CancellationToken.None);
        await client.SendAsync(new byte[70_000], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var result = await client.ReceiveAsync(new byte[100], CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
        Assert.Equal("message over 64 KiB", await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Empty(_received);
    }

    [Fact]
    public async Task A_flood_closes_the_socket_with_1008()
    {
        using var client = new ClientWebSocket();
        await client.ConnectAsync(_uri, CancellationToken.None);
        var drain = Task.Run(async () =>
        {
            var buffer = new byte[100];
            while (client.State == WebSocketState.Open)
            {
                var r = await client.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return r.CloseStatus;
                }
            }
            return client.CloseStatus;
        });
        var message = Encoding.UTF8.GetBytes("{}");
        try
        {
            for (var i = 0; i <= WebSocketTransport.MaxMessagesPerSecond && client.State == WebSocketState.Open; i++)
            {
                await client.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // the server closed while we were still sending
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await drain.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("more than 10000 messages a second", await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(WebSocketTransport.MaxMessagesPerSecond, _received.Count); // the one over the limit is refused
    }

    [Fact]
    public async Task A_client_that_vanishes_reads_as_a_hang_up()
    {
        var client = new ClientWebSocket();
        await client.ConnectAsync(_uri, CancellationToken.None);
        await client.SendAsync(Encoding.UTF8.GetBytes("{}"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        client.Abort();
        client.Dispose();
        Assert.Null(await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
