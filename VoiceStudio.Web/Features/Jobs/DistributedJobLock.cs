using StackExchange.Redis;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Jobs;

/// <summary>
/// Makes sure a scheduled job runs on one instance at a time: a Redis lock with an expiry, so an instance that
/// dies mid-job frees the lock by itself.
/// </summary>
public sealed class DistributedJobLock(IConnectionMultiplexer redis, RedisKeys keys)
{
    /// <summary>Runs <paramref name="work"/> if the lock is free; returns false (without running it) if another holder has it.</summary>
    public async Task<bool> TryRunAsync(string job, TimeSpan expiry, Func<Task> work)
    {
        var db = redis.GetDatabase();
        var key = keys.JobLock(job);
        var token = Guid.NewGuid().ToString("N");
        if (!await db.LockTakeAsync(key, token, expiry))
        {
            return false;
        }
        try
        {
            await work();
            return true;
        }
        finally
        {
            await db.LockReleaseAsync(key, token);
        }
    }
}
