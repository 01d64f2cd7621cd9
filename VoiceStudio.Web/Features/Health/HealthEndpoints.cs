using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Health;

/// <summary>/health/live: the process answers. /health/ready: PostgreSQL, Redis and the recordings folder work.</summary>
public static class HealthEndpoints
{
    private const string Ready = "ready";

    public static IServiceCollection AddVoiceStudioHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddDbContextCheck<VoiceStudioDbContext>("postgresql", tags: [Ready])
            .AddCheck<RedisHealthCheck>("redis", tags: [Ready])
            .AddCheck<RecordingsFolderHealthCheck>("recordings", tags: [Ready]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync });
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
                duration_ms = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        }));
    }
}

public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:0.0} ms");
        }
        catch (RedisException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}

public sealed class RecordingsFolderHealthCheck(IOptions<VoiceStudioSettings> settings) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(RecordingsFolder.CheckWritable(settings.Value.RecordingsDir) is { } problem
            ? HealthCheckResult.Unhealthy($"{settings.Value.RecordingsDir} is not writable: {problem}")
            : HealthCheckResult.Healthy($"{settings.Value.RecordingsDir} is writable"));
}
