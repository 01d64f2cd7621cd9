using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Tests.App;

/// <summary>
/// The test console's socket, <c>/ws/browser/{agent}</c>, on the real server: a signed-in designer chats or talks
/// with the seeded demo agent; the socket carries the call's reports, and the call is stored as a test call.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class BrowserSocketTests(AppFixture fixture)
{
    [Fact]
    public async Task A_typed_test_call_books_with_the_demo_flow_and_reports_each_step()
    {
        await using var console = await ConsoleClient.ConnectAsync(fixture, "text");
        await console.SendAsync("""{"event":"start","parameters":{"caller_name":"Ada"}}""");
        var started = await console.NextAsync("started");
        var callId = Guid.Parse(started.GetProperty("call_id").GetString()!);
        Assert.Equal("text", started.GetProperty("mode").GetString());

        await console.NodeAsync("main_menu");
        await console.SendAsync("""{"event":"text","text":"book an appointment"}""");
        await console.NodeAsync("ask_day");
        await console.SendAsync("""{"event":"text","text":"tuesday please"}""");
        await console.NodeAsync("ask_name");
        await console.SendAsync("""{"event":"text","text":"my name is alice"}""");
        var end = await console.NextAsync("end");
        Assert.Equal("agent ended the call", end.GetProperty("reason").GetString());
        Assert.True(end.GetProperty("by_agent").GetBoolean());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await console.ClosedAsync());

        Assert.Equal(["main_menu", "ask_day", "ask_name", "check_availability", "book", "confirm", "goodbye"], console.Nodes.Distinct());
        Assert.Contains(console.Lines, l => l == "caller: tuesday please");
        Assert.Contains(console.Lines, l => l.StartsWith("agent: ", StringComparison.Ordinal) && l.Contains("booked for tuesday", StringComparison.Ordinal));
        Assert.Contains(console.Reports, r => r.GetProperty("event").GetString() == "trace" && r.GetProperty("type").GetString() == "tool_result");
        Assert.Equal(0, console.AudioFrames);

        await using var db = fixture.Database.NewContext();
        var call = await WaitForEndAsync(db, callId);
        Assert.True(call.IsTest);
        Assert.Equal(TelephonyProvider.Browser, call.Provider);
        Assert.Equal("admin", call.FromNumber);
        Assert.Null(call.RecordingPath);
        Assert.Contains("tuesday please", call.Transcript, StringComparison.Ordinal);
        Assert.Contains("\"caller_name\": \"Ada\"", call.ContextVariables, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spoken_test_call_streams_pcm_both_ways_and_is_recorded()
    {
        await using var console = await ConsoleClient.ConnectAsync(fixture, "audio");
        await console.SendAsync("""{"event":"start"}""");
        var callId = Guid.Parse((await console.NextAsync("started")).GetProperty("call_id").GetString()!);
        await console.NodeAsync("main_menu");

        // The caller waits for the greeting, then says what it wants, in real time as a microphone would.
        using var utterance = FliteSynthesizer.Shared.Synthesize("book an appointment");
        short[] speech = [.. new short[16000 * 4], .. utterance.Samples, .. new short[16000 * 3 / 2]];
        var sender = Task.Run(async () =>
        {
            for (var at = 0; at < speech.Length && !console.Ended; at += 320)
            {
                await console.SendAudioAsync(speech.AsMemory(at, Math.Min(320, speech.Length - at)));
                await Task.Delay(20);
            }
        });
        await console.NodeAsync("ask_day");
        await sender;
        await console.SendAsync("""{"event":"stop"}""");
        await console.NextAsync("end");

        // Heard through the main menu's phrases; Flite's voice varies, so the words are matched loosely, as the flow does.
        Assert.True(console.Lines.Any(l => l.StartsWith("caller: ", StringComparison.Ordinal) && l.Contains("appointment", StringComparison.Ordinal)), string.Join(" | ", console.Lines));
        Assert.True(console.AudioFrames > 100, $"{console.AudioFrames} audio frames from the agent");
        Assert.Equal(640, console.LargestAudioFrame); // 20 ms of PCM16 at 16 kHz
        Assert.Contains(console.Reports, r => r.GetProperty("event").GetString() == "latency");

        await using var db = fixture.Database.NewContext();
        var call = await WaitForEndAsync(db, callId);
        Assert.True(call.IsTest);
        var recording = await File.ReadAllBytesAsync(Path.Combine(fixture.RecordingsDir, call.RecordingPath!));
        Assert.Equal((2, 16000), (BitConverter.ToInt16(recording, 22), BitConverter.ToInt32(recording, 24)));
    }

    [Fact]
    public async Task The_socket_refuses_strangers_bad_modes_and_unknown_agents_before_upgrading()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusalAsync(null, "demo", "text"));
        var token = await fixture.AdminTokenAsync();
        Assert.Equal(HttpStatusCode.BadRequest, await RefusalAsync(token, "demo", "video"));
        Assert.Equal(HttpStatusCode.NotFound, await RefusalAsync(token, "no-such-agent", "text"));
    }

    private async Task<HttpStatusCode?> RefusalAsync(string? token, string agent, string mode)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ConsoleClient.Uri(fixture, agent, mode), CancellationToken.None));
        return socket.HttpStatusCode;
    }

    private static async Task<Call> WaitForEndAsync(VoiceStudio.Data.VoiceStudioDbContext db, Guid callId)
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

    /// <summary>What the browser's test console does on the socket: reports in, audio both ways.</summary>
    private sealed class ConsoleClient : IAsyncDisposable
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

        public static async Task<ConsoleClient> ConnectAsync(AppFixture fixture, string mode)
        {
            var client = new ConsoleClient();
            client._socket.Options.SetRequestHeader("Authorization", $"Bearer {await fixture.AdminTokenAsync()}");
            await client._socket.ConnectAsync(Uri(fixture, "demo", mode), CancellationToken.None);
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
}
