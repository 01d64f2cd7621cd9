using Microsoft.Extensions.Options;
using Serilog.Events;

namespace VoiceStudio.Web.Configuration;

/// <summary>Checks the form of every setting; reachability is checked by <see cref="StartupChecks"/>.</summary>
public sealed class VoiceStudioSettingsValidator : IValidateOptions<VoiceStudioSettings>
{
    public ValidateOptionsResult Validate(string? name, VoiceStudioSettings options)
    {
        var failures = new List<string>();
        Check(failures, "DATABASE_URL", () => ConnectionStrings.PostgreSql(options.DatabaseUrl));
        Check(failures, "REDIS_URL", () => ConnectionStrings.Redis(options.RedisUrl));
        if (string.IsNullOrWhiteSpace(options.RecordingsDir))
        {
            failures.Add("RECORDINGS_DIR is empty; set it to a writable folder for call recordings");
        }
        if (options.RecordingRetentionDays < 1)
        {
            failures.Add($"RECORDING_RETENTION_DAYS must be a whole number of days, 1 or more (got {options.RecordingRetentionDays})");
        }
        CheckUrl(failures, "PUBLIC_BASE_URL", options.PublicBaseUrl);
        foreach (var origin in (options.DashboardUrl ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            CheckUrl(failures, "DASHBOARD_URL", origin);
        }
        if (!LogLevels.TryParse(options.LogLevel, out _))
        {
            failures.Add($"LOG_LEVEL '{options.LogLevel}' is not a level; use one of Verbose, Debug, Information, Warning, Error, Fatal");
        }
        if (options.LogFormat is not ("text" or "json"))
        {
            failures.Add($"LOG_FORMAT '{options.LogFormat}' is not a format; use text or json");
        }
        if (options.TelephonyProvider is not ("twilio" or "exotel" or "vobiz"))
        {
            failures.Add($"TELEPHONY_PROVIDER '{options.TelephonyProvider}' is not a provider; use twilio, exotel or vobiz");
        }
        if (options.InstanceId is { Length: > 0 } id && (id.Length > 100 || id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            failures.Add("INSTANCE_ID must be at most 100 characters without spaces");
        }
        if (options.InstanceHeartbeatTtlSeconds < 3)
        {
            failures.Add("INSTANCE_HEARTBEAT_TTL_SECONDS must be 3 or more");
        }
        if (options.LoginAttemptsPerMinute is < 1 or > 100_000)
        {
            failures.Add("LOGIN_ATTEMPTS_PER_MINUTE must be between 1 and 100000");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string setting, Action parse)
    {
        try
        {
            parse();
        }
        catch (FormatException e)
        {
            failures.Add($"{setting} is malformed: {e.Message}");
        }
    }

    private static void CheckUrl(List<string> failures, string setting, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value)
            && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            failures.Add($"{setting} '{value}' is not an absolute http(s) URL");
        }
    }
}

public static class LogLevels
{
    public static bool TryParse(string? value, out LogEventLevel level)
    {
        switch (value?.Trim().ToUpperInvariant())
        {
            case "VERBOSE" or "TRACE": level = LogEventLevel.Verbose; return true;
            case "DEBUG": level = LogEventLevel.Debug; return true;
            case "INFORMATION" or "INFO": level = LogEventLevel.Information; return true;
            case "WARNING" or "WARN": level = LogEventLevel.Warning; return true;
            case "ERROR": level = LogEventLevel.Error; return true;
            case "FATAL" or "CRITICAL": level = LogEventLevel.Fatal; return true;
            default: level = LogEventLevel.Information; return false;
        }
    }
}
