using Coravel.Invocable;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Diagnostics;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Jobs;

/// <summary>
/// Daily at 03:00 (UTC): deletes recordings older than RECORDING_RETENTION_DAYS. A call whose recording is deleted
/// keeps its row (transcript, events) with recording_path cleared and a recording_deleted event; files in
/// RECORDINGS_DIR that no call refers to are deleted once they are older than the retention too.
/// </summary>
public sealed class RecordingCleanupJob(
    VoiceStudioDbContext db,
    IOptions<VoiceStudioSettings> settings,
    DistributedJobLock jobLock,
    TimeProvider clock,
    ILogger<RecordingCleanupJob> logger) : IInvocable
{
    public const string Name = "recording_cleanup";

    public async Task Invoke()
    {
        if (!await jobLock.TryRunAsync(Name, TimeSpan.FromHours(1), () => RunAsync()))
        {
            logger.LogInformation("{Job} skipped: running on another instance", Name);
        }
    }

    public async Task<RecordingCleanupResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var cutoff = now.AddDays(-settings.Value.RecordingRetentionDays);
        var root = Path.GetFullPath(settings.Value.RecordingsDir);
        int rows = 0, files = 0;
        long bytes = 0;

        var expired = await db.Calls
            .Where(c => c.RecordingPath != null && (c.EndedAt ?? c.CreatedAt) < cutoff)
            .ToListAsync(cancellationToken);
        foreach (var call in expired)
        {
            var path = Path.GetFullPath(call.RecordingPath!, root);
            if (IsUnder(root, path) && File.Exists(path))
            {
                bytes += new FileInfo(path).Length;
                File.Delete(path);
                files++;
            }
            var mp3 = Path.ChangeExtension(path, ".mp3"); // the download copy, if one was made
            if (IsUnder(root, mp3) && File.Exists(mp3))
            {
                bytes += new FileInfo(mp3).Length;
                File.Delete(mp3);
                files++;
            }
            db.CallEvents.Add(new CallEvent
            {
                CallId = call.Id,
                Type = CallEventTypes.RecordingDeleted,
                OccurredAt = now,
                Data = System.Text.Json.JsonSerializer.Serialize(new { path = call.RecordingPath, reason = "retention", retention_days = settings.Value.RecordingRetentionDays }),
            });
            call.RecordingPath = null;
            call.UpdatedAt = now;
            rows++;
        }
        await db.SaveChangesAsync(cancellationToken);

        if (Directory.Exists(root))
        {
            var referenced = (await db.Calls.Where(c => c.RecordingPath != null).Select(c => c.RecordingPath!).ToListAsync(cancellationToken))
                .Select(p => Path.GetFullPath(p, root))
                .ToHashSet(StringComparer.Ordinal);
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                var info = new FileInfo(file);
                if (info.LastWriteTimeUtc < cutoff.UtcDateTime && !referenced.Contains(info.FullName))
                {
                    bytes += info.Length;
                    info.Delete();
                    files++;
                }
            }
        }

        logger.LogCleanupCompleted(Name, rows, files, bytes);
        return new RecordingCleanupResult(rows, files, bytes);
    }

    private static bool IsUnder(string root, string path) =>
        path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}

public sealed record RecordingCleanupResult(int RowsChanged, int FilesDeleted, long BytesFreed);
