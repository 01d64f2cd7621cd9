using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Migrations.Design;
using Microsoft.Extensions.DependencyInjection;
using Npgsql.EntityFrameworkCore.PostgreSQL.Design.Internal;

namespace VoiceStudio.Data;

/// <summary>
/// What `dotnet ef migrations add` does, callable from our own command line (the dotnet-ef tool is not in
/// the package registry here): writes a new migration (timestamped id, so it sorts after the numbered chain) and the model snapshot.
/// </summary>
public static class MigrationScaffolding
{
    /// <summary>Writes the migration (unless <paramref name="snapshotOnly"/>) and the snapshot into <paramref name="migrationsDirectory"/>.</summary>
    public static IReadOnlyList<string> Scaffold(VoiceStudioDbContext db, string name, string migrationsDirectory, bool snapshotOnly)
    {
        var services = new ServiceCollection();
        services.AddEntityFrameworkDesignTimeServices();
        services.AddDbContextDesignTimeServices(db);
#pragma warning disable EF1001 // the provider's design-time services are internal API by design
        new NpgsqlDesignTimeServices().ConfigureDesignTimeServices(services);
#pragma warning restore EF1001
        using var provider = services.BuildServiceProvider();

        var scaffolded = provider.GetRequiredService<IMigrationsScaffolder>()
            .ScaffoldMigration(name, typeof(VoiceStudioDbContext).Namespace!, "Migrations", "C#", dryRun: true);

        var written = new List<string>();
        var snapshotPath = Path.Combine(migrationsDirectory, scaffolded.SnapshotName + scaffolded.FileExtension);
        File.WriteAllText(snapshotPath, scaffolded.SnapshotCode);
        written.Add(snapshotPath);
        if (!snapshotOnly)
        {
            foreach (var (suffix, code) in new[] { ("", scaffolded.MigrationCode), (".Designer", scaffolded.MetadataCode) })
            {
                var path = Path.Combine(migrationsDirectory, scaffolded.MigrationId + suffix + scaffolded.FileExtension);
                File.WriteAllText(path, code);
                written.Add(path);
            }
        }
        return written;
    }
}
