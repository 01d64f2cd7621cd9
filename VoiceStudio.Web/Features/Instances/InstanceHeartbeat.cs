using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Instances;

/// <summary>
/// Keeps "instance:{id}" alive in Redis while this process runs. Claimed once at start-up (refusing an id that a
/// live process holds), refreshed every third of its TTL, deleted on a clean stop.
/// </summary>
public sealed class InstanceHeartbeat(
    IConnectionMultiplexer redis,
    RedisKeys keys,
    InstanceIdentity identity,
    IOptions<VoiceStudioSettings> settings,
    ILogger<InstanceHeartbeat> logger) : BackgroundService
{
    // Refresh only while the key is still ours (or gone): never overwrite another process's heartbeat.
    private const string RefreshScript = """
        local v = redis.call('GET', KEYS[1])
        if v == false or v == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """;

    private const string DeleteIfOursScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private TimeSpan Ttl => TimeSpan.FromSeconds(settings.Value.InstanceHeartbeatTtlSeconds);

    /// <summary>Takes the instance id, or throws <see cref="InvalidOperationException"/> if a live process holds it.</summary>
    public async Task ClaimAsync()
    {
        var db = redis.GetDatabase();
        var key = keys.InstanceHeartbeat(identity.Id);
        if (await db.StringSetAsync(key, identity.ProcessToken, Ttl, When.NotExists))
        {
            return;
        }
        var holder = await db.StringGetAsync(key);
        if (holder == identity.ProcessToken || (HeartbeatOwner.Parse(holder) is { } owner && owner.IsDeadProcessOnThisHost()))
        {
            await db.StringSetAsync(key, identity.ProcessToken, Ttl);
            return;
        }
        throw new InvalidOperationException(
            $"INSTANCE_ID '{identity.Id}' is in use by a running instance ({holder}); give each instance its own INSTANCE_ID, or wait {Ttl.TotalSeconds:0} s if that instance just stopped");
    }

    /// <summary>Whether an instance has a live heartbeat.</summary>
    public static async Task<bool> IsAliveAsync(IDatabase db, RedisKeys keys, string instanceId) =>
        await db.KeyExistsAsync(keys.InstanceHeartbeat(instanceId));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Ttl / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var refreshed = (int)await redis.GetDatabase().ScriptEvaluateAsync(RefreshScript,
                        [keys.InstanceHeartbeat(identity.Id)], [identity.ProcessToken, (long)Ttl.TotalMilliseconds]);
                    if (refreshed == 0)
                    {
                        logger.LogError("Instance {InstanceId}: another process took over this instance's heartbeat; two instances share one INSTANCE_ID", identity.Id);
                    }
                }
                catch (RedisException e)
                {
                    logger.LogWarning("Instance {InstanceId}: heartbeat refresh failed: {Reason}", identity.Id, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(DeleteIfOursScript, [keys.InstanceHeartbeat(identity.Id)], [identity.ProcessToken]);
        }
        catch (RedisException e)
        {
            logger.LogWarning("Instance {InstanceId}: could not remove the heartbeat on stop: {Reason}", identity.Id, e.Message);
        }
    }
}
