using Npgsql;
using StackExchange.Redis;

namespace VoiceStudio.Web.Configuration;

/// <summary>Turns DATABASE_URL and REDIS_URL (URL or native form) into driver connection settings.</summary>
public static class ConnectionStrings
{
    /// <summary>
    /// postgresql://user:password@host:port/database?sslmode=require, or an Npgsql "Host=…;Username=…" string.
    /// Throws <see cref="FormatException"/> with a message that names the problem (never the password).
    /// </summary>
    public static string PostgreSql(string databaseUrl)
    {
        if (string.IsNullOrWhiteSpace(databaseUrl))
        {
            throw new FormatException("it is empty");
        }
        if (!databaseUrl.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                var native = new NpgsqlConnectionStringBuilder(databaseUrl);
                return string.IsNullOrEmpty(native.Host) ? throw new FormatException("it names no Host") : native.ConnectionString;
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"it is neither a postgresql:// URL nor a valid connection string ({e.Message})");
            }
        }
        if (!Uri.TryCreate(databaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            throw new FormatException("expected postgresql://user:password@host:port/database");
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (string.IsNullOrEmpty(uri.Host) || string.IsNullOrEmpty(database))
        {
            throw new FormatException("expected postgresql://user:password@host:port/database (host and database are required)");
        }
        var userInfo = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            Username = Uri.UnescapeDataString(userInfo[0]),
        };
        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]).Replace("_", " ", StringComparison.Ordinal);
            try
            {
                builder[key] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "true";
            }
            catch (ArgumentException)
            {
                throw new FormatException($"unknown query option '{kv[0]}'");
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>redis://[:password@]host:port[/db], rediss:// for TLS, or a StackExchange.Redis configuration string.</summary>
    public static ConfigurationOptions Redis(string redisUrl)
    {
        if (string.IsNullOrWhiteSpace(redisUrl))
        {
            throw new FormatException("it is empty");
        }
        ConfigurationOptions options;
        if (redisUrl.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(redisUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss") || string.IsNullOrEmpty(uri.Host))
            {
                throw new FormatException("expected redis://[:password@]host:port[/db]");
            }
            options = new ConfigurationOptions { Ssl = uri.Scheme == "rediss" };
            options.EndPoints.Add(uri.Host, uri.Port > 0 ? uri.Port : 6379);
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                var parts = uri.UserInfo.Split(':', 2);
                if (parts.Length == 2)
                {
                    options.User = parts[0].Length > 0 ? Uri.UnescapeDataString(parts[0]) : null;
                    options.Password = Uri.UnescapeDataString(parts[1]);
                }
                else
                {
                    options.Password = Uri.UnescapeDataString(parts[0]);
                }
            }
            var path = uri.AbsolutePath.Trim('/');
            if (path.Length > 0)
            {
                options.DefaultDatabase = int.TryParse(path, out var db) && db >= 0
                    ? db
                    : throw new FormatException($"'/{path}' is not a database number");
            }
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(redisUrl);
            }
            catch (ArgumentException e)
            {
                throw new FormatException(e.Message);
            }
            if (options.EndPoints.Count == 0)
            {
                throw new FormatException("it names no host");
            }
        }
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 3000;
        options.ClientName = "voicestudio";
        return options;
    }
}
