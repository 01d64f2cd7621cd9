using Microsoft.Extensions.Time.Testing;
using VoiceStudio.Data.Calls;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Features.Dashboard;

namespace VoiceStudio.Tests.Data;

/// <summary>The overview's figures computed on the real PostgreSQL from calls and their turn_latency events.</summary>
public sealed class DashboardStatsTests
{
    [Fact]
    public async Task Counts_rates_percentiles_hours_and_agents_leave_test_calls_out()
    {
        await using var database = await TestDatabase.CreateAsync();
        var now = new DateTimeOffset(2026, 11, 24, 15, 30, 0, TimeSpan.Zero);
        await using (var db = database.NewContext())
        {
            Call Add(string agent, CallStatus status, DateTimeOffset at, double? duration, bool test = false, params double[] latencies)
            {
                var call = new Call
                {
                    Id = Guid.NewGuid(),
                    AgentName = agent,
                    Provider = TelephonyProvider.Twilio,
                    Direction = CallDirection.Inbound,
                    Status = status,
                    CreatedAt = at,
                    StartedAt = at,
                    DurationSeconds = duration,
                    IsTest = test,
                };
                db.Calls.Add(call);
                foreach (var ms in latencies)
                {
                    db.CallEvents.Add(new CallEvent { CallId = call.Id, Type = CallEventTypes.TurnLatency, OccurredAt = at.AddSeconds(5), Data = $$"""{"first_audio_sent_ms": {{ms}}}""" });
                }
                return call;
            }
            Add("demo", CallStatus.Completed, now.AddHours(-1), 30, false, 800, 900).Usage =
                """{"stt_seconds": 12.5, "tts_characters": 340, "llm_requests": 2, "llm_input_tokens": 500, "llm_output_tokens": 60}""";
            Add("demo", CallStatus.Failed, now.AddHours(-2), 10, false, 1000);
            Add("demo", CallStatus.InProgress, now.AddMinutes(-1), null);
            Add("sales", CallStatus.Completed, now.AddHours(-3), 50, false, 700).Usage = """{"stt_seconds": 7.5, "tts_characters": 60}""";
            Add("demo", CallStatus.Completed, now.AddDays(-2), 20); // not today, but within the week
            Add("demo", CallStatus.Completed, now.AddMinutes(-5), 99, test: true, 5000).Usage = """{"stt_seconds": 1000}"""; // a test call: counted nowhere
            await db.SaveChangesAsync();
        }

        var figures = await new DashboardStats(new TestDbFactory(database), new FakeTimeProvider(now)).ComputeAsync();
        Assert.Equal((4, 1), (figures.CallsToday, figures.ActiveNow));
        Assert.Equal(2 / 3.0, figures.SuccessRateToday!.Value, 3); // completed of the ended ones
        Assert.Equal(30.0, figures.AverageDurationToday!.Value, 3);
        Assert.Equal(850.0, figures.LatencyP50Ms!.Value, 3);         // 700, 800, 900, 1000
        Assert.Equal(985.0, figures.LatencyP95Ms!.Value, 3);
        Assert.Equal(24, figures.Hours.Count);
        Assert.Equal(now.AddHours(-23).AddMinutes(-30), figures.Hours[0].Hour);
        Assert.Equal(1, figures.Hours.Single(h => h.Hour == now.AddHours(-1).AddMinutes(-30)).Calls);
        Assert.Equal(850.0, figures.Hours.Single(h => h.Hour == now.AddHours(-1).AddMinutes(-30)).LatencyP50Ms!.Value, 3);
        var demo = figures.Agents.Single(a => a.Agent == "demo");
        Assert.Equal((4, 2), (demo.Calls, demo.Completed));
        Assert.Equal(0.5, demo.SuccessRate);
        Assert.Equal("sales", figures.Agents[1].Agent);
        Assert.Equal(new UsageFigures(20, 400, 560), figures.UsageToday);
    }

    private sealed class TestDbFactory(TestDatabase database) : Microsoft.EntityFrameworkCore.IDbContextFactory<VoiceStudio.Data.VoiceStudioDbContext>
    {
        public VoiceStudio.Data.VoiceStudioDbContext CreateDbContext() => database.NewContext();
    }
}
