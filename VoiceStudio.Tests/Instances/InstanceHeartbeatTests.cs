using Microsoft.Extensions.DependencyInjection;
using VoiceStudio.Tests.Jobs;
using VoiceStudio.Web.Features.Instances;

namespace VoiceStudio.Tests.Instances;

public sealed class InstanceHeartbeatTests
{
    [Fact]
    public async Task Claiming_an_id_held_by_a_live_process_elsewhere_is_refused_with_a_clear_message()
    {
        await using var context = await JobTestContext.CreateAsync(instanceId: "shared-id");
        await context.Redis.StringSetAsync(context.Keys.InstanceHeartbeat("shared-id"), "some-other-host|42|1700000000000", TimeSpan.FromMinutes(1));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => context.Services.GetRequiredService<InstanceHeartbeat>().ClaimAsync());
        Assert.Contains("INSTANCE_ID 'shared-id' is in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_heartbeat_left_by_a_dead_process_on_this_host_is_taken_over()
    {
        await using var context = await JobTestContext.CreateAsync(instanceId: "restarted");
        var deadPid = 4_000_000; // above pid_max: no such process
        await context.Redis.StringSetAsync(context.Keys.InstanceHeartbeat("restarted"), $"{Environment.MachineName}|{deadPid}|1700000000000", TimeSpan.FromMinutes(1));

        await context.Services.GetRequiredService<InstanceHeartbeat>().ClaimAsync();

        var identity = context.Services.GetRequiredService<InstanceIdentity>();
        Assert.Equal(identity.ProcessToken, (string?)await context.Redis.StringGetAsync(context.Keys.InstanceHeartbeat("restarted")));
        var ttl = await context.Redis.KeyTimeToLiveAsync(context.Keys.InstanceHeartbeat("restarted"));
        Assert.InRange(ttl!.Value.TotalSeconds, 1, 15);
    }

    [Fact]
    public async Task A_free_id_is_claimed_and_released_on_stop()
    {
        await using var context = await JobTestContext.CreateAsync(instanceId: "fresh");
        var heartbeat = context.Services.GetRequiredService<InstanceHeartbeat>();
        await heartbeat.ClaimAsync();
        Assert.True(await InstanceHeartbeat.IsAliveAsync(context.Redis, context.Keys, "fresh"));

        await heartbeat.StartAsync(CancellationToken.None);
        await heartbeat.StopAsync(CancellationToken.None);
        Assert.False(await InstanceHeartbeat.IsAliveAsync(context.Redis, context.Keys, "fresh"));
    }
}
