using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Instances;

/// <summary>
/// Who this running instance is. <see cref="Id"/> is stable across restarts (INSTANCE_ID, else the host name) so a
/// restarted instance can find the calls it owned; <see cref="ProcessToken"/> tells this process from an earlier one.
/// </summary>
public sealed class InstanceIdentity
{
    public InstanceIdentity(IOptions<VoiceStudioSettings> settings, TimeProvider clock)
    {
        Id = string.IsNullOrWhiteSpace(settings.Value.InstanceId) ? Environment.MachineName : settings.Value.InstanceId.Trim();
        ProcessToken = new HeartbeatOwner(Environment.MachineName, Environment.ProcessId, clock.GetUtcNow().ToUnixTimeMilliseconds()).ToString();
    }

    public string Id { get; }
    public string ProcessToken { get; }
}

/// <summary>The value of a heartbeat key: host|pid|start time (ms).</summary>
public readonly record struct HeartbeatOwner(string Host, int Pid, long StartedAtMs)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}|{Pid}|{StartedAtMs}");

    public static HeartbeatOwner? Parse(string? value)
    {
        var parts = value?.Split('|');
        return parts is { Length: 3 }
            && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(parts[2], CultureInfo.InvariantCulture, out var started)
            ? new HeartbeatOwner(parts[0], pid, started)
            : null;
    }

    /// <summary>True when this heartbeat was left by a process on this host that no longer runs (a crash, a restart).</summary>
    public bool IsDeadProcessOnThisHost()
    {
        if (!string.Equals(Host, Environment.MachineName, StringComparison.Ordinal))
        {
            return false;
        }
        if (Pid == Environment.ProcessId)
        {
            return true; // same pid, new process: the earlier one is gone (typical in containers, pid 1)
        }
        try
        {
            using var process = Process.GetProcessById(Pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
