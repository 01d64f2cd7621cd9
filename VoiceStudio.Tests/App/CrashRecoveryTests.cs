using VoiceStudio.Data.Calls;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.App;

[Collection(RunningAppGroup.Name)]
public sealed class CrashRecoveryTests(AppFixture fixture)
{
    [Fact]
    public async Task A_killed_instance_fails_its_own_calls_when_it_starts_again_and_leaves_others_alone()
    {
        var instance = $"crashy-{Guid.NewGuid():N}";
        var prefix = TestEnvironment.NewRedisPrefix();
        var environment = new Dictionary<string, string?>(fixture.Environment) { ["INSTANCE_ID"] = instance, ["REDIS_KEY_PREFIX"] = prefix };

        await using (var first = AppProcess.Start(environment))
        {
            await first.WaitUntilLiveAsync();
            first.Crash(); // SIGKILL: no clean shutdown, its heartbeat key stays behind in Redis
        }

        Guid mine, theirs;
        await using (var db = fixture.Database.NewContext())
        {
            mine = Add(db, instance);
            theirs = Add(db, "some-other-instance");
            await db.SaveChangesAsync();
        }

        await using var second = AppProcess.Start(environment);
        await second.WaitUntilLiveAsync();

        await using (var db = fixture.Database.NewContext())
        {
            var recovered = await db.Calls.FindAsync(mine);
            Assert.Equal(CallStatus.Failed, recovered!.Status);
            Assert.Contains("restarted", recovered.EndReason, StringComparison.Ordinal);
            Assert.Equal(CallStatus.InProgress, (await db.Calls.FindAsync(theirs))!.Status);
        }
        Assert.Contains("failed 1 calls it owned", second.Stdout, StringComparison.Ordinal);
    }

    private static Guid Add(VoiceStudio.Data.VoiceStudioDbContext db, string owner)
    {
        var call = new Call
        {
            Id = Guid.NewGuid(),
            AgentName = "demo",
            Provider = TelephonyProvider.Twilio,
            Direction = CallDirection.Inbound,
            Status = CallStatus.InProgress,
            StartedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
            OwnerInstance = owner,
        };
        db.Calls.Add(call);
        return call.Id;
    }
}
