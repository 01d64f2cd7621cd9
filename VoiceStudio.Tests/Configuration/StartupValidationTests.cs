using VoiceStudio.Tests.App;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Tests.Configuration;

/// <summary>A bad setting stops the app with one line that names it, not a stack trace.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class StartupValidationTests(AppFixture app)
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "DATABASE_URL", "postgresql://", "DATABASE_URL is malformed" },
        { "DATABASE_URL", "mysql://user@host/db", "DATABASE_URL is malformed" },
        { "DATABASE_URL", "postgresql://voicestudio:voicestudio@127.0.0.1:1/voicestudio", "DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:1/voicestudio" },
        { "REDIS_URL", "redis://127.0.0.1:1", "REDIS_URL: cannot reach Redis at 127.0.0.1:1" },
        { "REDIS_URL", "http://127.0.0.1:6379", "REDIS_URL is malformed" },
        { "RECORDINGS_DIR", "/etc/hostname/recordings", "RECORDINGS_DIR '/etc/hostname/recordings' is not writable" },
        { "RECORDING_RETENTION_DAYS", "0", "RECORDING_RETENTION_DAYS must be a whole number of days" },
        { "RECORDING_RETENTION_DAYS", "ten", "RECORDING_RETENTION_DAYS" },
        { "LOG_LEVEL", "loud", "LOG_LEVEL 'loud' is not a level" },
        { "PUBLIC_BASE_URL", "example.com", "PUBLIC_BASE_URL 'example.com' is not an absolute http(s) URL" },
        { "TELEPHONY_PROVIDER", "skype", "TELEPHONY_PROVIDER 'skype' is not a provider" },
        { "LOGIN_ATTEMPTS_PER_MINUTE", "0", "LOGIN_ATTEMPTS_PER_MINUTE must be between 1 and 100000" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_app_with_one_line_naming_it(string setting, string value, string expected)
    {
        var environment = new Dictionary<string, string?>(app.Environment) { [setting] = value };
        var (exitCode, _, stderr) = await AppProcess.RunAsync(environment);

        Assert.Equal(1, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("VoiceStudio cannot start: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("voicestudio:voicestudio", line, StringComparison.Ordinal); // never the password
    }

    [Fact]
    public async Task An_instance_id_held_by_a_running_instance_is_refused()
    {
        var environment = new Dictionary<string, string?>(app.Environment) { ["INSTANCE_ID"] = app.InstanceId, ["REDIS_KEY_PREFIX"] = app.RedisKeyPrefix };
        var (exitCode, _, stderr) = await AppProcess.RunAsync(environment);
        Assert.Equal(1, exitCode);
        Assert.Contains($"INSTANCE_ID '{app.InstanceId}' is in use by a running instance", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql://u:p%40ss@db.example:6543/calls?sslmode=require", "Host=db.example;Port=6543;Database=calls;Username=u;Password=p@ss;SSL Mode=Require")]
    [InlineData("postgres://u@localhost/calls", "Host=localhost;Port=5432;Database=calls;Username=u")]
    [InlineData("Host=h;Database=d;Username=u", "Host=h;Database=d;Username=u")]
    public void Database_urls_become_npgsql_connection_strings(string url, string expected) =>
        Assert.Equal(expected, ConnectionStrings.PostgreSql(url));

    [Theory]
    [InlineData("redis://127.0.0.1:6380", "127.0.0.1:6380", null, null)]
    [InlineData("redis://:secret@cache:6379/2", "cache:6379", "secret", 2)]
    [InlineData("rediss://user:pw@cache", "cache:6379", "pw", null)]
    public void Redis_urls_become_redis_options(string url, string endpoint, string? password, int? database)
    {
        var options = ConnectionStrings.Redis(url);
        Assert.Equal(endpoint, Assert.Single(options.EndPoints).ToString()!.Replace("Unspecified/", "", StringComparison.Ordinal));
        Assert.Equal(password, options.Password);
        Assert.Equal(database, options.DefaultDatabase);
    }
}
