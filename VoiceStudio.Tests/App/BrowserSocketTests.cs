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
        var call = await ConsoleClient.WaitForEndAsync(db, callId);
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
        var call = await ConsoleClient.WaitForEndAsync(db, callId);
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
}
