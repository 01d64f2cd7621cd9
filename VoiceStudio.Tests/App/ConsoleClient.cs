using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Tests.App;

/// <summary>What the browser's test console does on the socket: reports in, audio both ways.</summary>
internal sealed class ConsoleClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly System.Threading.Channels.Channel<JsonElement> _reports = System.Threading.Channels.Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _listening = Task.CompletedTask;

    public List<JsonElement> Reports { get; } = [];
    public List<string> Nodes { get; } = [];
    public List<string> Lines { get; } = [];
    public int AudioFrames { get; private set; }
    public int LargestAudioFrame { get; private set; }
    public bool Ended { get; private set; }

    public static Uri Uri(AppFixture fixture, string agent, string mode) =>
        new(new Uri(fixture.App.BaseUri, $"ws/browser/{agent}?mode={mode}").ToString().Replace("http://", "ws://", StringComparison.Ordinal));

    /// <summary>The call once it is completed and its last event is stored.</summary>
    public static async Task<Call> WaitForEndAsync(VoiceStudio.Data.VoiceStudioDbContext db, Guid callId)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var call = await db.Calls.AsNoTracking().FirstAsync(c => c.Id == callId);
            if (call.Status == CallStatus.Completed && await db.CallEvents.AnyAsync(e => e.CallId == callId && e.Type == CallEventTypes.CallCompleted))
            {
                return call;
            }
            Assert.True(DateTime.UtcNow < until, $"call {callId} is still {call.Status}");
            await Task.Delay(100);
        }
    }

    public static async Task<ConsoleClient> ConnectAsync(AppFixture fixture, string mode, string agent = "demo")
    {
        var client = new ConsoleClient();
        client._socket.Options.SetRequestHeader("Authorization", $"Bearer {await fixture.AdminTokenAsync()}");
        await client._socket.ConnectAsync(Uri(fixture, agent, mode), CancellationToken.None);
        client._listening = Task.Run(client.ListenAsync);
        return client;
    }

    public Task SendAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text);

    public Task SendAudioAsync(ReadOnlyMemory<short> samples) =>
        SendAsync(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.Span).ToArray(), WebSocketMessageType.Binary);

    /// <summary>The next report of this kind (earlier ones of other kinds are kept in <see cref="Reports"/>).</summary>
    public async Task<JsonElement> NextAsync(string kind)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var report = await _reports.Reader.ReadAsync(timeout.Token);
                if (report.GetProperty("event").GetString() == kind)
                {
                    return report;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no '{kind}' report in 30 s; nodes {string.Join(", ", Nodes)}; transcript {string.Join(" | ", Lines)}");
            throw;
        }
    }

    public async Task NodeAsync(string node)
    {
        while ((await NextAsync("node")).GetProperty("node").GetString() != node)
        {
        }
    }

    public Task<WebSocketCloseStatus?> ClosedAsync() => _closed.Task.WaitAsync(TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test over", CancellationToken.None);
        }
        await _listening.WaitAsync(TimeSpan.FromSeconds(10));
        _socket.Dispose();
        _send.Dispose();
    }

    private async Task SendAsync(byte[] message, WebSocketMessageType type)
    {
        await _send.WaitAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.SendAsync(message, type, endOfMessage: true, CancellationToken.None);
            }
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task ListenAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(_socket.CloseStatus);
                    return;
                }
                var length = result.Count;
                while (!result.EndOfMessage)
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    AudioFrames++;
                    LargestAudioFrame = Math.Max(LargestAudioFrame, length);
                    continue;
                }
                var report = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                Reports.Add(report);
                switch (report.GetProperty("event").GetString())
                {
                    case "node":
                        Nodes.Add(report.GetProperty("node").GetString()!);
                        break;
                    case "transcript":
                        Lines.Add($"{report.GetProperty("role").GetString()}: {report.GetProperty("text").GetString()}");
                        break;
                    case "end":
                        Ended = true;
                        break;
                }
                _reports.Writer.TryWrite(report);
            }
        }
        catch (WebSocketException)
        {
            _closed.TrySetResult(null);
        }
    }
}
