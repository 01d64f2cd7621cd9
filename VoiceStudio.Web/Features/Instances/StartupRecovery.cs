using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Recording;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Jobs;

namespace VoiceStudio.Web.Features.Instances;

/// <summary>
/// On start-up, before taking calls: the calls this instance owned and left in_progress (it crashed or was killed)
/// are failed, and their recordings, whose WAV headers the crash left unfinished, are repaired. Other instances'
/// calls and files are not touched; the stale-call job handles those whose owner died.
/// </summary>
public sealed class StartupRecovery(
    VoiceStudioDbContext db,
    InstanceIdentity identity,
    IOptions<VoiceStudioSettings> settings,
    TimeProvider clock,
    ILogger<StartupRecovery> logger)
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
            RepairRecording(call);
        }
        await db.SaveChangesAsync(cancellationToken);
        if (orphaned.Count > 0)
        {
            logger.LogWarning("Instance {InstanceId} restarted: failed {Count} calls it owned before it stopped", identity.Id, orphaned.Count);
        }
        return orphaned.Count;
    }

    private void RepairRecording(Call call)
    {
        if (call.RecordingPath is null)
        {
            return;
        }
        var path = Path.GetFullPath(call.RecordingPath, Path.GetFullPath(settings.Value.RecordingsDir));
        try
        {
            if (File.Exists(path) && WavFile.Repair(path))
            {
                logger.LogInformation("Repaired the recording {Path} of call {CallId} left unfinished by the restart", path, call.Id);
            }
        }
        catch (IOException e)
        {
            logger.LogWarning("Could not repair the recording {Path} of call {CallId}: {Reason}", path, call.Id, e.Message);
        }
    }
}
