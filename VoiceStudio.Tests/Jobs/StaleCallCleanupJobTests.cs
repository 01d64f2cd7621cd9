using Microsoft.Extensions.DependencyInjection;
using VoiceStudio.Data.Calls;
using VoiceStudio.Web.Features.Instances;
using VoiceStudio.Web.Features.Jobs;

namespace VoiceStudio.Tests.Jobs;

public sealed class StaleCallCleanupJobTests
{
    [Fact]
    public async Task Fails_calls_of_dead_instances_completes_abandoned_ones_and_leaves_live_calls_alone()
    {
        await using var context = await JobTestContext.CreateAsync(instanceId: "runner");
        await context.MarkAliveAsync("live");
        var deadOwner = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(2), owner: "dead");
        var liveShort = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(2), owner: "live");
        var liveLongRunning = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromHours(2), owner: "live");
        var liveLongForgotten = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromHours(2), owner: "live");
        var ownerlessStale = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(31));
        var ownerlessFresh = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(29));
        var finished = await context.AddCallAsync(CallStatus.Completed, TimeSpan.FromHours(3), owner: "dead", endedAgo: TimeSpan.FromHours(2));
        await context.Redis.SetAddAsync(context.Keys.InstanceCalls("live"), liveLongRunning.ToString());

        var result = await context.Get<StaleCallCleanupJob>().RunAsync();

        Assert.Equal(new StaleCallCleanupResult(Failed: 1, Completed: 2), result);
        var dead = await context.CallAsync(deadOwner);
        Assert.Equal(CallStatus.Failed, dead.Status);
        Assert.Contains("dead", dead.EndReason, StringComparison.Ordinal);
        Assert.Equal(JobTestContext.Now, dead.EndedAt);
        Assert.Equal(120, dead.DurationSeconds!.Value, precision: 3);
        Assert.Equal([CallEventTypes.CallFailed], await context.EventTypesAsync(deadOwner));

        foreach (var id in new[] { liveLongForgotten, ownerlessStale })
        {
            var call = await context.CallAsync(id);
            Assert.Equal(CallStatus.Completed, call.Status);
            Assert.StartsWith("error:", call.EndReason, StringComparison.Ordinal);
            Assert.Equal([CallEventTypes.CallCompleted], await context.EventTypesAsync(id));
        }
        foreach (var id in new[] { liveShort, liveLongRunning, ownerlessFresh })
        {
            var call = await context.CallAsync(id);
            Assert.Equal(CallStatus.InProgress, call.Status);
            Assert.Null(call.EndedAt);
            Assert.Empty(await context.EventTypesAsync(id));
        }
        Assert.Equal(CallStatus.Completed, (await context.CallAsync(finished)).Status);
        Assert.Empty(await context.EventTypesAsync(finished));
    }

    [Fact]
    public async Task Does_not_run_while_another_instance_holds_the_job_lock()
    {
        await using var context = await JobTestContext.CreateAsync();
        var stale = await context.AddCallAsync(CallStatus.InProgress, TimeSpan.FromHours(1));
        var otherInstance = new DistributedJobLock(context.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), context.Keys);
        var release = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        var holder = otherInstance.TryRunAsync(StaleCallCleanupJob.Name, TimeSpan.FromMinutes(1), async () =>
        {
            entered.SetResult();
            await release.Task;
        });
        await entered.Task;

        await context.Get<StaleCallCleanupJob>().Invoke();
        Assert.Equal(CallStatus.InProgress, (await context.CallAsync(stale)).Status);

        release.SetResult();
        Assert.True(await holder);
        await context.Get<StaleCallCleanupJob>().Invoke();
        Assert.Equal(CallStatus.Completed, (await context.CallAsync(stale)).Status);
    }

    [Fact]
    public async Task A_lock_left_by_a_crashed_instance_expires()
    {
        await using var context = await JobTestContext.CreateAsync();
        var jobLock = context.Get<DistributedJobLock>();
        await context.Redis.StringSetAsync(context.Keys.JobLock("some_job"), "crashed-holder", TimeSpan.FromMilliseconds(50));
        Assert.False(await jobLock.TryRunAsync("some_job", TimeSpan.FromMinutes(1), () => Task.CompletedTask));
        // Redis expires the key on its own clock: wait for the key to vanish rather than for a fixed time.
        for (var i = 0; i < 100 && await context.Redis.KeyExistsAsync(context.Keys.JobLock("some_job")); i++)
        {
            await Task.Delay(20);
        }
        Assert.True(await jobLock.TryRunAsync("some_job", TimeSpan.FromMinutes(1), () => Task.CompletedTask));
    }

    [Fact]
    public async Task Start_up_recovery_repairs_the_recordings_the_crash_left_open()
    {
        await using var a = await JobTestContext.CreateAsync(instanceId: "instance-a");
        var header = new byte[VoiceStudio.Media.Recording.WavFile.HeaderBytes];
        VoiceStudio.Media.Recording.WavFile.WriteHeader(header, 8000, 2, 0); // crashed before the first header refresh
        await File.WriteAllBytesAsync(Path.Combine(a.RecordingsDir, "torn.wav"), [.. header, .. new byte[32_002]]);
        var call = await a.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(1), owner: "instance-a", recording: "torn.wav");

        await a.Get<StartupRecovery>().FailOrphanedCallsAsync();

        var repaired = await File.ReadAllBytesAsync(Path.Combine(a.RecordingsDir, "torn.wav"));
        Assert.Equal(header.Length + 32_000, repaired.Length);
        Assert.Equal((8000, 2, 32_000L), VoiceStudio.Media.Recording.WavFile.ReadHeader(repaired));
        Assert.Equal(CallStatus.Failed, (await a.CallAsync(call)).Status);
    }

    [Fact]
    public async Task Start_up_recovery_fails_only_the_restarted_instances_calls()
    {
        await using var a = await JobTestContext.CreateAsync(instanceId: "instance-a");
        var aCall = await a.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(5), owner: "instance-a");
        var aRinging = await a.AddCallAsync(CallStatus.Ringing, TimeSpan.FromMinutes(1), owner: "instance-a");
        var bCall = await a.AddCallAsync(CallStatus.InProgress, TimeSpan.FromMinutes(5), owner: "instance-b");
        var aDone = await a.AddCallAsync(CallStatus.Completed, TimeSpan.FromMinutes(50), owner: "instance-a", endedAgo: TimeSpan.FromMinutes(40));

        Assert.Equal(1, await a.Get<StartupRecovery>().FailOrphanedCallsAsync());

        var failed = await a.CallAsync(aCall);
        Assert.Equal(CallStatus.Failed, failed.Status);
        Assert.Contains("restarted", failed.EndReason, StringComparison.Ordinal);
        Assert.Equal(CallStatus.Ringing, (await a.CallAsync(aRinging)).Status);
        Assert.Equal(CallStatus.InProgress, (await a.CallAsync(bCall)).Status);
        Assert.Equal(CallStatus.Completed, (await a.CallAsync(aDone)).Status);
        Assert.Empty(await a.EventTypesAsync(bCall));
    }
}
