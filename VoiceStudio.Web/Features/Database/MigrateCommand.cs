using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using VoiceStudio.Data;

namespace VoiceStudio.Web.Features.Database;

/// <summary>
/// `migrate` applies every migration; `migrate status` lists them, numbered, and the current version; `migrate to 7`
/// moves up or down to that version (by number in the chain, id or name); `migrate base` removes everything.
/// </summary>
public sealed class MigrateCommand(VoiceStudioDbContext db, TextWriter output)
{
    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        switch (args)
        {
            case []:
            case ["up"]:
                await EnsureDatabaseExistsAsync(cancellationToken);
                await db.Database.MigrateAsync(cancellationToken);
                await output.WriteLineAsync($"Database is at {await CurrentAsync(cancellationToken)}");
                return 0;
            case ["status"]:
                await EnsureDatabaseExistsAsync(cancellationToken);
                await PrintStatusAsync(cancellationToken);
                return 0;
            case ["base"]:
                await db.GetService<IMigrator>().MigrateAsync(Migration.InitialDatabase, cancellationToken: cancellationToken);
                await output.WriteLineAsync("Database is at base (no migrations applied)");
                return 0;
            case ["to", var target]:
                var id = Resolve(target);
                if (id is null)
                {
                    await output.WriteLineAsync($"No migration matches '{target}'. Known: {string.Join(", ", db.Database.GetMigrations())}");
                    return 2;
                }
                await EnsureDatabaseExistsAsync(cancellationToken);
                await db.GetService<IMigrator>().MigrateAsync(id, cancellationToken: cancellationToken);
                await output.WriteLineAsync($"Database is at {await CurrentAsync(cancellationToken)}");
                return 0;
            default:
                await output.WriteLineAsync("usage: migrate [up | status | to <version> | base]");
                return 2;
        }
    }

    /// <summary>
    /// A migration id from its number in the chain ("7" or "007"), its full id, or its name ("TelephonyConcurrencyLimits").
    /// </summary>
    public string? Resolve(string target)
    {
        var all = db.Database.GetMigrations().ToList();
        if (int.TryParse(target, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return number >= 1 && number <= all.Count ? all[number - 1] : null;
        }
        return all.FirstOrDefault(id => id == target)
            ?? all.FirstOrDefault(id => string.Equals(id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..], target, StringComparison.OrdinalIgnoreCase));
    }

    public async Task<string> CurrentAsync(CancellationToken cancellationToken = default) =>
        (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).LastOrDefault() ?? "base";

    private async Task PrintStatusAsync(CancellationToken cancellationToken)
    {
        var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var number = 0;
        foreach (var id in db.Database.GetMigrations())
        {
            await output.WriteLineAsync($"  [{(applied.Contains(id) ? 'x' : ' ')}] {++number:000}  {id}");
        }
        await output.WriteLineAsync($"Current version: {await CurrentAsync(cancellationToken)}");
    }

    /// <summary>Creates the database named in DATABASE_URL if the server does not have it yet.</summary>
    private async Task EnsureDatabaseExistsAsync(CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString());
        var name = target.Database ?? throw new InvalidOperationException("DATABASE_URL names no database");
        var admin = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            await output.WriteLineAsync($"Created database {name}");
        }
    }
}
