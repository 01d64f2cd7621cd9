using Coravel.Invocable;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Diagnostics;
using VoiceStudio.Web.Features.Instances;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Jobs;

/// <summary>
/// Every 5 minutes: calls left in_progress by an instance whose heartbeat has expired become failed; calls
/// in_progress for over 30 minutes that no live instance is running become completed with an error end reason.
/// Calls that a live instance is running are never touched.
/// </summary>
public sealed class StaleCallCleanupJob(
    VoiceStudioDbContext db,
    IConnectionMultiplexer redis,
    RedisKeys keys,
    DistributedJobLock jobLock,
    TimeProvider clock,
    ILogger<StaleCallCleanupJob> logger) : IInvocable
{
    public const string Name = "stale_call_cleanup";
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);

    public async Task Invoke()
    {
        if (!await jobLock.TryRunAsync(Name, TimeSpan.FromMinutes(4), () => RunAsync()))
        {
            logger.LogInformation("{Job} skipped: running on another instance", Name);
        }
    }

    public async Task<StaleCallCleanupResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var redisDb = redis.GetDatabase();
        var inProgress = await db.Calls.Where(c => c.Status == CallStatus.InProgress).ToListAsync(cancellationToken);
        var liveOwners = new Dictionary<string, bool>(StringComparer.Ordinal);
        int failed = 0, completed = 0;
        foreach (var call in inProgress)
        {
            var owner = call.OwnerInstance;
            var ownerAlive = false;
            if (owner is not null && !liveOwners.TryGetValue(owner, out ownerAlive))
            {
                ownerAlive = await InstanceHeartbeat.IsAliveAsync(redisDb, keys, owner);
                liveOwners[owner] = ownerAlive;
            }
            if (owner is not null && !ownerAlive)
            {
                CallEnding.End(db, call, CallStatus.Failed, $"owner instance {owner} stopped (heartbeat expired)", now);
                failed++;
            }
            else if ((call.StartedAt ?? call.CreatedAt) < now - StaleAfter
                && (owner is null || !await ActiveCalls.IsRunningAsync(redisDb, keys, owner, call.Id)))
            {
                CallEnding.End(db, call, CallStatus.Completed, $"error: still in progress after {StaleAfter.TotalMinutes:0} minutes with no instance running it", now);
                completed++;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        logger.LogCleanupCompleted(Name, failed + completed, 0, 0);
        return new StaleCallCleanupResult(failed, completed);
    }
}

public sealed record StaleCallCleanupResult(int Failed, int Completed);

/// <summary>Finalizes a call row that ended without its session (recovery and cleanup paths).</summary>
public static class CallEnding
{
    public static void End(VoiceStudioDbContext db, Call call, CallStatus status, string reason, DateTimeOffset now)
    {
        call.Status = status;
        call.EndReason = reason;
        call.EndedAt = now;
        call.UpdatedAt = now;
        if (call.StartedAt is { } started && now >= started)
        {
            call.DurationSeconds = (now - started).TotalSeconds;
        }
        db.CallEvents.Add(new CallEvent
        {
            CallId = call.Id,
            Type = status == CallStatus.Failed ? CallEventTypes.CallFailed : CallEventTypes.CallCompleted,
            OccurredAt = now,
            Data = System.Text.Json.JsonSerializer.Serialize(new { status = EnumNames.Of(status), reason }),
        });
    }
}
