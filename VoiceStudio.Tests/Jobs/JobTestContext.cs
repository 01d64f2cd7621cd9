using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Tests.Jobs;

/// <summary>A migrated database, the app's container with a fake clock, and helpers to craft calls.</summary>
public sealed class JobTestContext : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-24T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private JobTestContext(TestDatabase database, ServiceProvider services, FakeTimeProvider clock, string recordings)
    {
        Database = database;
        Services = services;
        Clock = clock;
        RecordingsDir = recordings;
    }

    public TestDatabase Database { get; }
    public ServiceProvider Services { get; }
    public FakeTimeProvider Clock { get; }
    public string RecordingsDir { get; }
    public RedisKeys Keys => Services.GetRequiredService<RedisKeys>();
    public IDatabase Redis => Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

    public static async Task<JobTestContext> CreateAsync(string instanceId = "instance-a", int retentionDays = 30)
    {
        var database = await TestDatabase.CreateAsync();
        var clock = new FakeTimeProvider(Now);
        var recordings = Path.Combine(Path.GetTempPath(), "vs-test-recordings", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(recordings);
        var services = TestHost.Services(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.Url,
            ["RECORDINGS_DIR"] = recordings,
            ["RECORDING_RETENTION_DAYS"] = retentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["INSTANCE_ID"] = instanceId,
        }, clock);
        return new JobTestContext(database, services, clock, recordings);
    }

    public T Get<T>() where T : notnull => ActivatorUtilities.GetServiceOrCreateInstance<T>(Services.CreateScope().ServiceProvider);

    public async Task<Guid> AddCallAsync(CallStatus status, TimeSpan startedAgo, string? owner = null, string? recording = null, TimeSpan? endedAgo = null)
    {
        await using var db = Database.NewContext();
        var call = new Call
        {
            Id = Guid.NewGuid(),
            AgentName = "demo",
            Provider = TelephonyProvider.Twilio,
            Direction = CallDirection.Inbound,
            Status = status,
            StartedAt = Now - startedAgo,
            EndedAt = endedAgo is { } e ? Now - e : null,
            OwnerInstance = owner,
            RecordingPath = recording,
            CreatedAt = Now - startedAgo,
            UpdatedAt = Now - startedAgo,
        };
        db.Calls.Add(call);
        await db.SaveChangesAsync();
        return call.Id;
    }

    public async Task<Call> CallAsync(Guid id)
    {
        await using var db = Database.NewContext();
        return await db.Calls.FindAsync(id) ?? throw new InvalidOperationException("no such call");
    }

    public async Task<List<string>> EventTypesAsync(Guid id) =>
        await Database.QueryAsync($"SELECT type FROM call_events WHERE call_id = '{id}' ORDER BY id");

    /// <summary>Gives an instance a live heartbeat (as its InstanceHeartbeat would).</summary>
    public Task MarkAliveAsync(string instanceId) => Redis.StringSetAsync(Keys.InstanceHeartbeat(instanceId), "other-host|1|0", TimeSpan.FromMinutes(1));

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Database.DisposeAsync();
        Directory.Delete(RecordingsDir, recursive: true);
    }
}
