using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Web.Features.Instances;

namespace VoiceStudio.Web.Configuration;

/// <summary>
/// Runs before the app takes traffic: settings, recordings folder, Redis, PostgreSQL and its schema version, the
/// instance id, and recovery of this instance's orphaned calls. A failure is one line naming the setting.
/// </summary>
public static class StartupChecks
{
    /// <summary>Null when the app may start, else the reason it may not.</summary>
    public static async Task<string?> RunAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        VoiceStudioSettings settings;
        try
        {
            settings = services.GetRequiredService<IOptions<VoiceStudioSettings>>().Value;
        }
        catch (OptionsValidationException e)
        {
            return string.Join("; ", e.Failures);
        }
        catch (InvalidOperationException e)
        {
            return e.Message; // the binder's "Failed to convert configuration value at 'SETTING' to type …"
        }

        if (RecordingsFolder.CheckWritable(settings.RecordingsDir) is { } folderProblem)
        {
            return $"RECORDINGS_DIR '{settings.RecordingsDir}' is not writable ({folderProblem}); create it or point RECORDINGS_DIR at a writable folder";
        }

        if (!settings.TelephonyVerifyRequests)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger("VoiceStudio.Startup").LogWarning(
                "TELEPHONY_VERIFY_REQUESTS=false: provider webhook signatures and media-stream tokens are NOT checked. For local development only; anyone who can reach this app can open calls");
        }

        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        try
        {
            await redis.GetDatabase().PingAsync();
        }
        catch (RedisException e)
        {
            return $"REDIS_URL: cannot reach Redis at {string.Join(", ", redis.GetEndPoints().Select(p => p.ToString()))} ({FirstLine(e.Message)}); start Redis or fix REDIS_URL";
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VoiceStudioDbContext>();
        var target = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString());
        var where = $"{target.Host}:{target.Port}/{target.Database}";
        try
        {
            await WaitForSchemaAsync(db, where, services.GetRequiredService<ILoggerFactory>().CreateLogger("VoiceStudio.Startup"), cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            return $"DATABASE_URL: cannot connect to PostgreSQL at {where} ({FirstLine(e.Message)}); start PostgreSQL or fix DATABASE_URL";
        }

        try
        {
            await services.GetRequiredService<InstanceHeartbeat>().ClaimAsync();
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
        await scope.ServiceProvider.GetRequiredService<StartupRecovery>().FailOrphanedCallsAsync(cancellationToken);
        await services.GetRequiredService<Features.Telephony.ConcurrencySlots>().ReleaseAllOfThisInstanceAsync();
        return null;
    }

    /// <summary>
    /// Returns once every migration is applied. Until then it waits (saying so once), so that in a container the
    /// app stays up for `docker compose exec app dotnet VoiceStudio.Web.dll migrate`.
    /// </summary>
    private static async Task WaitForSchemaAsync(VoiceStudioDbContext db, string where, ILogger logger, CancellationToken cancellationToken)
    {
        var told = false;
        while (true)
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0)
            {
                return;
            }
            if (!told)
            {
                logger.LogWarning("The database {Database} lacks {Count} migrations (next: {Next}); waiting until `dotnet VoiceStudio.Web.dll migrate` has run",
                    where, pending.Count, pending[0]);
                told = true;
            }
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}

public static class RecordingsFolder
{
    /// <summary>Creates the folder if needed and writes a probe file; null when writable, else why not.</summary>
    public static string? CheckWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return e.Message;
        }
    }
}
