using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Web.Features.Jobs;

namespace VoiceStudio.Web.Features.Instances;

/// <summary>
/// On start-up, before taking calls: the calls this instance owned and left in_progress (it crashed or was killed)
/// are failed. Other instances' calls are not touched; the stale-call job handles those whose owner died.
/// </summary>
public sealed class StartupRecovery(VoiceStudioDbContext db, InstanceIdentity identity, TimeProvider clock, ILogger<StartupRecovery> logger)
{
    public async Task<int> FailOrphanedCallsAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var orphaned = await db.Calls
            .Where(c => c.OwnerInstance == identity.Id && c.Status == CallStatus.InProgress)
            .ToListAsync(cancellationToken);
        foreach (var call in orphaned)
        {
            CallEnding.End(db, call, CallStatus.Failed, $"instance {identity.Id} restarted while the call was in progress", now);
        }
        await db.SaveChangesAsync(cancellationToken);
        if (orphaned.Count > 0)
        {
            logger.LogWarning("Instance {InstanceId} restarted: failed {Count} calls it owned before it stopped", identity.Id, orphaned.Count);
        }
        return orphaned.Count;
    }
}
