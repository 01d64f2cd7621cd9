using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Infrastructure;

/// <summary>Serilog: console, compact JSON with LOG_FORMAT=json, level from LOG_LEVEL, framework noise at Warning.</summary>
public static class Logging
{
    public static void Configure(LoggerConfiguration logger, IConfiguration configuration)
    {
        _ = LogLevels.TryParse(configuration["LOG_LEVEL"], out var level); // an invalid level is reported by the settings validator
        var quiet = level > LogEventLevel.Warning ? level : LogEventLevel.Warning;
        logger.MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft", quiet)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", level > LogEventLevel.Information ? level : LogEventLevel.Information)
            .MinimumLevel.Override("System", quiet)
            .MinimumLevel.Override("Coravel", quiet)
            // EF logs the probe of a missing history table as an error; failed commands surface as exceptions anyway.
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Database.Command", level <= LogEventLevel.Debug ? level : LogEventLevel.Fatal)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Instance", configuration["INSTANCE_ID"] is { Length: > 0 } id ? id : Environment.MachineName);
        if (string.Equals(configuration["LOG_FORMAT"], "json", StringComparison.OrdinalIgnoreCase))
        {
            logger.WriteTo.Console(new CompactJsonFormatter());
        }
        else
        {
            logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
