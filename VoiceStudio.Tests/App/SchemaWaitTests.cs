using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.App;

[Collection(RunningAppGroup.Name)]
public sealed class SchemaWaitTests
{
    [Fact]
    public async Task On_an_unmigrated_database_the_app_waits_for_migrate_then_serves()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: false);
        var environment = new Dictionary<string, string?> { ["DATABASE_URL"] = database.Url };
        await using var app = AppProcess.Start(environment);

        for (var i = 0; i < 300 && !app.Stdout.Contains("has run", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
        Assert.Contains("waiting until `dotnet VoiceStudio.Web.dll migrate` has run", app.Stdout, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = app.BaseUri };
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("health/live")); // not serving yet

        var migrate = await AppProcess.RunAsync(environment, "migrate");
        Assert.Equal(0, migrate.ExitCode);
        await app.WaitUntilLiveAsync();
    }
}
