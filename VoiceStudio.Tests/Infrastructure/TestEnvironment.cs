using Npgsql;
using StackExchange.Redis;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Tests.Infrastructure;

/// <summary>
/// The real services scripts/test.sh started for this run. A missing one fails the test loudly: tests never skip
/// because PostgreSQL, Redis or Chromium is absent.
/// </summary>
public static class TestEnvironment
{
    public static string ServerUrl => Required("VS_TEST_DATABASE_URL");
    public static string RedisUrl => Required("VS_TEST_REDIS_URL");
    public static string Chromium => Required("VS_TEST_CHROMIUM");
    public static string VadModel => Required("VS_TEST_VAD_MODEL");

    private static readonly Lazy<ConnectionMultiplexer> SharedRedis = new(() =>
    {
        var redis = ConnectionMultiplexer.Connect(ConnectionStrings.Redis(RedisUrl));
        return redis.IsConnected ? redis : throw new InvalidOperationException($"Redis at {RedisUrl} does not answer; run the tests with scripts/test.sh");
    });

    public static IConnectionMultiplexer Redis => SharedRedis.Value;

    /// <summary>A Redis key prefix of this test's own, so tests never see each other's keys.</summary>
    public static string NewRedisPrefix() => $"test:{Guid.NewGuid():N}:";

    /// <summary>Connection string for a database on the test server.</summary>
    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionStrings.PostgreSql(ServerUrl)) { Database = database }.ConnectionString;

    /// <summary>postgresql:// URL for a database on the test server (as the app takes it in DATABASE_URL).</summary>
    public static string DatabaseUrl(string database)
    {
        var uri = new UriBuilder(ServerUrl) { Path = "/" + database };
        return uri.Uri.ToString();
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test.sh, which starts PostgreSQL, Redis and Chromium");
}
