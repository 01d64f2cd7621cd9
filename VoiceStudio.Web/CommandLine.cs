using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Database;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web;

/// <summary>
/// `VoiceStudio.Web` runs the server; `migrate [status | to V | base]` and `seed` manage the database (for
/// `docker compose exec app …`); `migrations-scaffold Name` writes a new EF Core migration (for developers).
/// </summary>
public static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return args switch
            {
                ["migrate", .. var rest] => await WithServicesAsync(sp => sp.GetRequiredService<MigrateCommand>().RunAsync(rest)),
                ["simulate", .. var rest] => await SimulateAsync(rest),
                ["seed"] => await WithServicesAsync(async sp => { await sp.GetRequiredService<Seeder>().RunAsync(); return 0; }),
                ["migrations-scaffold", var name, .. var flags] => await WithServicesAsync(sp => ScaffoldAsync(sp, name, flags.Contains("--snapshot-only"))),
                [var first, ..] when !first.StartsWith('-') => Usage($"unknown command '{first}'"),
                _ => await ServeAsync(args),
            };
        }
        catch (OptionsValidationException e)
        {
            return Fail(string.Join("; ", e.Failures));
        }
        catch (Npgsql.NpgsqlException e)
        {
            return Fail($"DATABASE_URL: {e.Message}");
        }
    }

    private static async Task<int> ServeAsync(string[] args)
    {
        var app = WebApplication.CreateBuilder(args).AddVoiceStudio().Build();
        if (await StartupChecks.RunAsync(app.Services) is { } problem)
        {
            return Fail(problem);
        }
        app.UseVoiceStudio();
        await app.RunAsync();
        return 0;
    }

    private static async Task<int> SimulateAsync(string[] args)
    {
        try
        {
            return await Features.Simulation.SimulateCommand.RunAsync(args, Console.Out);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"simulate: {e.Message}\n{Features.Simulation.SimulateCommand.Usage}");
            return 2;
        }
    }

    private static async Task<int> WithServicesAsync(Func<IServiceProvider, Task<int>> command)
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddVoiceStudio();
        await using var app = builder.Build();
        _ = app.Services.GetRequiredService<IOptions<VoiceStudioSettings>>().Value;
        await using var scope = app.Services.CreateAsyncScope();
        return await command(scope.ServiceProvider);
    }

    private static Task<int> ScaffoldAsync(IServiceProvider services, string name, bool snapshotOnly)
    {
        var directory = FindMigrationsDirectory() ?? throw new InvalidOperationException("run migrations-scaffold from inside the repository (VoiceStudio.Data/Migrations not found)");
        foreach (var file in MigrationScaffolding.Scaffold(services.GetRequiredService<VoiceStudioDbContext>(), name, directory, snapshotOnly))
        {
            Console.WriteLine($"wrote {file}");
        }
        return Task.FromResult(0);
    }

    private static string? FindMigrationsDirectory()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "VoiceStudio.Data", "Migrations");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"VoiceStudio: {problem}. Commands: (none) to serve, migrate [up|status|to <version>|base], seed, simulate [options], migrations-scaffold <Name> [--snapshot-only]");
        return 2;
    }

    private static int Fail(string problem)
    {
        Console.Error.WriteLine($"VoiceStudio cannot start: {problem}");
        return 1;
    }
}
