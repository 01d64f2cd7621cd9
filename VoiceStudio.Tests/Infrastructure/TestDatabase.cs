using Microsoft.EntityFrameworkCore;
using Npgsql;
using VoiceStudio.Data;

namespace VoiceStudio.Tests.Infrastructure;

/// <summary>A fresh, empty database on the test server; dropped on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name)
    {
        Name = name;
        ConnectionString = TestEnvironment.ConnectionString(name);
    }

    public string Name { get; }
    public string ConnectionString { get; }
    public string Url => TestEnvironment.DatabaseUrl(Name);

    public static async Task<TestDatabase> CreateAsync(bool migrated = true)
    {
        var database = new TestDatabase($"vs_test_{Guid.NewGuid():N}");
        await AdminAsync($"CREATE DATABASE {database.Name}");
        if (migrated)
        {
            await using var db = database.NewContext();
            await db.Database.MigrateAsync();
        }
        return database;
    }

    public VoiceStudioDbContext NewContext()
    {
        var options = new DbContextOptionsBuilder<VoiceStudioDbContext>();
        VoiceStudioDbContext.Configure(options, ConnectionString);
        return new VoiceStudioDbContext(options.Options);
    }

    /// <summary>Runs a query and returns the first column of every row as text.</summary>
    public async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.IsDBNull(0) ? "" : reader.GetValue(0).ToString() ?? "");
        }
        return rows;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
