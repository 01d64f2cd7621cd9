using System.Net.Http.Json;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.App;

/// <summary>
/// One migrated and seeded database and one running app (compact JSON logs) shared by the end-to-end tests. The
/// database is prepared with the app's own `migrate` and `seed` commands, as `docker compose exec app …` would.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    public const string AdminPassword = "fixture-admin-password";

    private TestDatabase? _database;

    public AppProcess App { get; private set; } = null!;
    public TestDatabase Database => _database!;
    public string InstanceId { get; } = $"e2e-{Guid.NewGuid():N}";
    public string RedisKeyPrefix { get; } = TestEnvironment.NewRedisPrefix();
    public string RecordingsDir { get; } = Path.Combine(Path.GetTempPath(), "vs-test-recordings", Guid.NewGuid().ToString("N"));
    public Dictionary<string, string?> Environment { get; } = [];
    public string MigrateOutput { get; private set; } = "";
    public string SeedOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(migrated: false);
        Environment["DATABASE_URL"] = _database.Url;
        // The port is chosen first so the seeded demo tools point at this app.
        var url = $"http://127.0.0.1:{AppProcess.FreePort()}";
        Environment["LOCAL_BASE_URL"] = url;
        Environment["VAD_MODEL_PATH"] = TestEnvironment.VadModel;
        Environment["ADMIN_PASSWORD"] = AdminPassword;
        Environment["LOGIN_ATTEMPTS_PER_MINUTE"] = "1000"; // the suite signs in often; SignInTests checks the limit on an app of its own
        // Webhook signatures and stream tokens are verified (the default); the simulated caller signs with these.
        Environment["TWILIO_AUTH_TOKEN"] = WebhookSecret("twilio");
        Environment["VOBIZ_AUTH_TOKEN"] = WebhookSecret("vobiz");
        Environment["EXOTEL_WEBHOOK_SECRET"] = WebhookSecret("exotel");
        Environment["DASHBOARD_URL"] = DashboardOrigin;

        var migrate = await AppProcess.RunAsync(Environment, "migrate");
        Assert.True(migrate.ExitCode == 0, migrate.Stdout + migrate.Stderr);
        MigrateOutput = migrate.Stdout;
        var seed = await AppProcess.RunAsync(Environment, "seed");
        Assert.True(seed.ExitCode == 0, seed.Stdout + seed.Stderr);
        SeedOutput = seed.Stdout;

        App = AppProcess.Start(new Dictionary<string, string?>(Environment)
        {
            ["INSTANCE_ID"] = InstanceId,
            ["REDIS_KEY_PREFIX"] = RedisKeyPrefix,
            ["RECORDINGS_DIR"] = RecordingsDir,
            ["LOG_FORMAT"] = "json",
            ["ASPNETCORE_URLS"] = url,
        });
        await App.WaitUntilLiveAsync();
    }

    /// <summary>The origin the API allows by CORS in the suite.</summary>
    public const string DashboardOrigin = "https://dashboard.example.test";

    /// <summary>The credential the app checks each provider's webhooks with (auth token, or Exotel's URL secret).</summary>
    public static string WebhookSecret(string provider) => $"test-{provider}-webhook-secret";

    private string? _adminToken;

    /// <summary>A bearer token for the seeded admin (signed in once per run).</summary>
    public async Task<string> AdminTokenAsync()
    {
        if (_adminToken is null)
        {
            using var http = new HttpClient { BaseAddress = App.BaseUri };
            var response = await http.PostAsJsonAsync("api/auth/login", new { username = "admin", password = AdminPassword });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            _adminToken = body.RootElement.GetProperty("access_token").GetString();
        }
        return _adminToken!;
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Database.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class RunningAppGroup : ICollectionFixture<AppFixture>
{
    public const string Name = "running app";
}
