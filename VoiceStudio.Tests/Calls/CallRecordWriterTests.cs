using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Recording;
using VoiceStudio.Tests.Jobs;
using VoiceStudio.Web.Features.Calls;
using VoiceStudio.Web.Features.Instances;
using StreamInfo = VoiceStudio.Media.Calls.StreamInfo;

namespace VoiceStudio.Tests.Calls;

public sealed class CallRecordWriterTests
{
    [Fact]
    public async Task A_call_s_reports_become_its_row_events_transcript_and_live_messages()
    {
        await using var context = await JobTestContext.CreateAsync(instanceId: "writer-instance");
        var callId = await context.AddCallAsync(CallStatus.Ringing, TimeSpan.Zero);
        var keys = context.Keys;
        var live = new ConcurrentQueue<string>();
        var all = new ConcurrentQueue<string>();
        var subscriber = context.Services.GetRequiredService<IConnectionMultiplexer>().GetSubscriber();
        // A ChannelMessageQueue delivers in publish order (plain handlers may run concurrently).
        (await subscriber.SubscribeAsync(keys.CallChannel(callId))).OnMessage(m => live.Enqueue(m.Message!));
        (await subscriber.SubscribeAsync(keys.AllCallsChannel)).OnMessage(m => all.Enqueue(m.Message!));

        var writer = new CallRecordWriter(callId, "demo", context.Services);
        writer.Started(new StreamInfo("twilio", "MZ1", "CA1", "+15550001111", "+15550002222", new Dictionary<string, string>(), 8000));
        writer.GreetingMeasured(91.2);
        writer.AgentSpoke("Please say book, or hours.", TimeSpan.FromMilliseconds(100));
        writer.UserSpoke("book an appointment", TimeSpan.FromSeconds(4));
        writer.TurnMeasured(new TurnLatency(1, 0.8, 0.1, 2.5, 30.7, 38.4));
        writer.Dtmf('2', TimeSpan.FromSeconds(6));
        writer.Traced(new Trace(CallEventTypes.NodeEntered, new Dictionary<string, object?> { ["node"] = "ask_day" }));
        var recordingPath = Path.Combine(context.RecordingsDir, "2026", "CA1.wav");
        Assert.True(await InstanceCalls(context, "writer-instance").WaitAsync(c => c.Contains(callId.ToString())), "the call is listed as running");
        writer.Ended(new CallEnd("done", ByAgent: true, new RecordingInfo(recordingPath, 7.5, 120_044, 0, 0), null));
        await writer.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        var call = await context.CallAsync(callId);
        Assert.Equal(CallStatus.Completed, call.Status);
        Assert.Equal(("writer-instance", "CA1", "done"), (call.OwnerInstance, call.ProviderCallId, call.EndReason));
        Assert.Equal(Path.Combine("2026", "CA1.wav"), call.RecordingPath);
        Assert.NotNull(call.StartedAt);
        Assert.NotNull(call.EndedAt);
        using var transcript = JsonDocument.Parse(call.Transcript);
        Assert.Equal(["agent:Please say book, or hours.", "user:book an appointment"],
            transcript.RootElement.EnumerateArray().Select(e => $"{e.GetProperty("speaker").GetString()}:{e.GetProperty("text").GetString()}"));

        string[] expected =
        [
            CallEventTypes.CallConnected, CallEventTypes.CallStarted, CallEventTypes.GreetingLatency, CallEventTypes.AgentSpoke,
            CallEventTypes.UserSpoke, CallEventTypes.TurnLatency, CallEventTypes.Dtmf, CallEventTypes.NodeEntered,
            CallEventTypes.RecordingSaved, CallEventTypes.CallCompleted,
        ];
        Assert.Equal(expected, await context.EventTypesAsync(callId));
        var latency = await context.Database.QueryAsync($"SELECT data::text FROM call_events WHERE call_id = '{callId}' AND type = 'turn_latency'");
        Assert.Contains("\"first_audio_sent_ms\": 38.4", Assert.Single(latency), StringComparison.Ordinal);

        for (var i = 0; i < 100 && (live.Count < expected.Length || all.Count < expected.Length); i++)
        {
            await Task.Delay(20);
        }
        Assert.Equal(expected, live.Select(m => JsonDocument.Parse(m).RootElement.GetProperty("type").GetString()));
        Assert.Equal(live, all);
        Assert.Equal("book an appointment", JsonDocument.Parse(live.ElementAt(4)).RootElement.GetProperty("data").GetProperty("text").GetString());
        Assert.False(await context.Redis.SetContainsAsync(context.Keys.InstanceCalls("writer-instance"), callId.ToString()), "no longer running");
    }

    [Fact]
    public async Task A_protocol_error_fails_the_call_and_an_unknown_trace_becomes_a_warning()
    {
        await using var context = await JobTestContext.CreateAsync();
        var callId = await context.AddCallAsync(CallStatus.Ringing, TimeSpan.Zero);
        var writer = new CallRecordWriter(callId, "demo", context.Services);
        writer.Started(new StreamInfo("vobiz", "s", "c", null, null, new Dictionary<string, string>(), 8000));
        writer.Traced(new Trace("made_up_event", new Dictionary<string, object?>()));
        writer.Ended(new CallEnd("protocol error: message is not a JSON object", false, null, null));
        await writer.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(CallStatus.Failed, (await context.CallAsync(callId)).Status);
        Assert.Equal([CallEventTypes.CallConnected, CallEventTypes.CallStarted, CallEventTypes.Warning, CallEventTypes.CallFailed], await context.EventTypesAsync(callId));
    }

    private static Poll InstanceCalls(JobTestContext context, string instance) => new(async () =>
        (await context.Redis.SetMembersAsync(context.Keys.InstanceCalls(instance))).Select(v => v.ToString()).ToList());

    private sealed class Poll(Func<Task<List<string>>> read)
    {
        public async Task<bool> WaitAsync(Func<List<string>, bool> condition)
        {
            for (var i = 0; i < 200; i++)
            {
                if (condition(await read()))
                {
                    return true;
                }
                await Task.Delay(20);
            }
            return false;
        }
    }
}
