using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Web.Features.Dashboard;

/// <summary>One hour of the last day: calls that started in it and the median reply latency of its turns.</summary>
public sealed record HourFigures(DateTimeOffset Hour, int Calls, double? LatencyP50Ms);

/// <summary>An agent's last seven days.</summary>
public sealed record AgentFigures(string Agent, int Calls, int Completed, double? AverageDurationSeconds)
{
    public double? SuccessRate => Calls == 0 ? null : Completed / (double)Calls;
}

/// <summary>The overview's figures. Test calls (the designer's console) are left out.</summary>
public sealed record OverviewFigures(
    int CallsToday,
    int ActiveNow,
    double? SuccessRateToday,
    double? AverageDurationToday,
    double? LatencyP50Ms,
    double? LatencyP95Ms,
    IReadOnlyList<HourFigures> Hours,
    IReadOnlyList<AgentFigures> Agents)
{
    /// <summary>What today's calls used of the cloud providers (calls' <c>usage</c>).</summary>
    public UsageFigures UsageToday { get; init; } = new(0, 0, 0);
}

public sealed record UsageFigures(double SttSeconds, long TtsCharacters, long LlmTokens);

/// <summary>
/// Computes the overview from the database: counts with EF, latency percentiles in PostgreSQL
/// (<c>percentile_cont</c> over the turn_latency events' first_audio_sent_ms, the time from the end of the caller's
/// speech to the reply's first audio on the wire).
/// </summary>
public sealed class DashboardStats(IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock)
{
    private sealed record Percentiles(double? P50, double? P95);

    private sealed record UsageRow(double? SttSeconds, long? TtsCharacters, long? LlmTokens);

    private sealed record HourRow(DateTime Hour, int Calls, double? P50);

    public async Task<OverviewFigures> ComputeAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var dayAgo = now.AddHours(-24);
        var weekAgo = now.AddDays(-7);
        var real = db.Calls.AsNoTracking().Where(c => !c.IsTest);

        var todays = real.Where(c => c.CreatedAt >= today);
        var callsToday = await todays.CountAsync(cancellationToken);
        var endedToday = await todays.CountAsync(c => c.Status != CallStatus.Ringing && c.Status != CallStatus.InProgress, cancellationToken);
        var completedToday = await todays.CountAsync(c => c.Status == CallStatus.Completed, cancellationToken);
        var averageToday = await todays.Where(c => c.DurationSeconds != null).AverageAsync(c => c.DurationSeconds, cancellationToken);
        var active = await real.CountAsync(c => c.Status == CallStatus.InProgress, cancellationToken);

        var latency = await db.Database.SqlQuery<Percentiles>($"""
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (e.data->>'first_audio_sent_ms')::float8) AS p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY (e.data->>'first_audio_sent_ms')::float8) AS p95
            FROM call_events e JOIN calls c ON c.id = e.call_id
            WHERE e.type = 'turn_latency' AND NOT c.is_test AND e.occurred_at >= {dayAgo}
            """).SingleAsync(cancellationToken);

        var hours = await db.Database.SqlQuery<HourRow>($"""
            SELECT h.hour AS hour,
                   (SELECT count(*)::int FROM calls c WHERE NOT c.is_test AND c.created_at >= h.hour AND c.created_at < h.hour + interval '1 hour') AS calls,
                   (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (e.data->>'first_audio_sent_ms')::float8)
                      FROM call_events e JOIN calls c ON c.id = e.call_id
                     WHERE e.type = 'turn_latency' AND NOT c.is_test AND e.occurred_at >= h.hour AND e.occurred_at < h.hour + interval '1 hour') AS p50
            FROM generate_series(date_trunc('hour', {now}::timestamptz) - interval '23 hours', date_trunc('hour', {now}::timestamptz), interval '1 hour') AS h(hour)
            ORDER BY 1
            """).ToListAsync(cancellationToken);

        var agents = await real.Where(c => c.CreatedAt >= weekAgo && c.AgentName != null)
            .GroupBy(c => c.AgentName!)
            .Select(g => new AgentFigures(g.Key, g.Count(), g.Count(c => c.Status == CallStatus.Completed), g.Average(c => c.DurationSeconds)))
            .ToListAsync(cancellationToken);

        var usage = await db.Database.SqlQuery<UsageRow>($"""
            SELECT sum((usage->>'stt_seconds')::float8) AS stt_seconds,
                   sum((usage->>'tts_characters')::bigint) AS tts_characters,
                   sum(coalesce((usage->>'llm_input_tokens')::bigint, 0) + coalesce((usage->>'llm_output_tokens')::bigint, 0)) AS llm_tokens
            FROM calls WHERE NOT is_test AND created_at >= {today}
            """).SingleAsync(cancellationToken);

        return new OverviewFigures(
            callsToday,
            active,
            endedToday == 0 ? null : completedToday / (double)endedToday,
            averageToday,
            latency.P50,
            latency.P95,
            [.. hours.Select(h => new HourFigures(new DateTimeOffset(DateTime.SpecifyKind(h.Hour, DateTimeKind.Utc)), h.Calls, h.P50))],
            [.. agents.OrderByDescending(a => a.Calls)])
        {
            UsageToday = new UsageFigures(usage.SttSeconds ?? 0, usage.TtsCharacters ?? 0, usage.LlmTokens ?? 0),
        };
    }
}
