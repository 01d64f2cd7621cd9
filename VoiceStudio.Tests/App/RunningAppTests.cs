using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.App;

[Collection(RunningAppGroup.Name)]
public sealed class RunningAppTests(AppFixture fixture)
{
    private HttpClient Http() => new() { BaseAddress = fixture.App.BaseUri };

    [Fact]
    public async Task Live_answers_and_ready_reports_postgresql_redis_and_the_recordings_folder()
    {
        using var http = Http();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
        var ready = await http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var checks = body.RootElement.GetProperty("checks");
        foreach (var name in new[] { "postgresql", "redis", "recordings" })
        {
            Assert.Equal("Healthy", checks.GetProperty(name).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Ready_turns_unhealthy_when_the_recordings_folder_cannot_be_written()
    {
        using var http = Http();
        Directory.Delete(fixture.RecordingsDir, recursive: true);
        await File.WriteAllTextAsync(fixture.RecordingsDir, "a file where the folder should be");
        try
        {
            var ready = await http.GetAsync("health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("recordings").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
        }
        finally
        {
            File.Delete(fixture.RecordingsDir);
            Directory.CreateDirectory(fixture.RecordingsDir);
        }
    }

    [Fact]
    public async Task Logs_are_compact_json_with_request_logging()
    {
        using var http = Http();
        await http.GetAsync("health/live?probe=logs");
        await http.PostAsJsonAsync("demo/tools/check-availability", new { day = "monday" });
        var lines = fixture.App.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var events = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList(); // every line is JSON
        Assert.All(events, e => Assert.True(e.TryGetProperty("@t", out _)));
        Assert.Contains(events, e => e.TryGetProperty("RequestPath", out var path) && path.GetString() == "/demo/tools/check-availability"
            && e.GetProperty("StatusCode").GetInt32() == 200);
        Assert.Contains(events, e => e.TryGetProperty("Instance", out var instance) && instance.GetString() == fixture.InstanceId);
    }

    [Theory]
    [InlineData("check-availability", """{"day":"Tuesday"}""", HttpStatusCode.OK, "slots")]
    [InlineData("check-availability", """{"day":"sunday"}""", HttpStatusCode.Conflict, "closed on sunday")]
    [InlineData("check-availability", """{"day":"someday"}""", HttpStatusCode.UnprocessableEntity, "day must be")]
    [InlineData("check-availability", """not json""", HttpStatusCode.BadRequest, "")]
    [InlineData("book-appointment", """{"name":"Ada","day":"friday"}""", HttpStatusCode.OK, "\"confirmation\":\"RV")]
    [InlineData("book-appointment", """{"name":"Ada"}""", HttpStatusCode.UnprocessableEntity, "day must be a weekday")]
    public async Task The_demo_tools_answer_like_a_real_booking_service(string tool, string body, HttpStatusCode status, string expected)
    {
        using var http = Http();
        var response = await http.PostAsync($"demo/tools/{tool}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_migrate_and_seed_commands_report_what_they_did()
    {
        Assert.Contains("Database is at ", fixture.MigrateOutput, StringComparison.Ordinal);
        Assert.Contains("Created agent 'demo'", fixture.SeedOutput, StringComparison.Ordinal);
        Assert.Contains("ADMIN_PASSWORD", fixture.SeedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_status_lists_every_migration_as_applied()
    {
        var (exitCode, stdout, stderr) = await AppProcess.RunAsync(fixture.Environment, "migrate", "status");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("[x] 001  00000000000001_InitialCallsAgentsEvents", stdout, StringComparison.Ordinal);
        Assert.Contains("[x] 012  00000000000012_ExtendedEventTypes", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("[ ]", stdout, StringComparison.Ordinal);
        await using var db = fixture.Database.NewContext();
        Assert.Contains($"Current version: {Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetMigrations(db.Database).Last()}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agents_page_shows_the_seeded_demo_agent_in_the_browser()
    {
        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 720 } });
        await page.GotoAsync(new Uri(fixture.App.BaseUri, "agents").ToString());
        await page.FillAsync("#username", "admin"); // sent to the sign-in page first
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");

        var name = page.GetByTestId("agent-name").First;
        await Assertions.Expect(name).ToHaveTextAsync("demo");
        await Assertions.Expect(page.Locator("tr", new() { HasText = "demo" })).ToContainTextAsync("Flow · 9 nodes");
        var background = await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-appbar')).backgroundColor");
        Assert.Equal("rgb(40, 53, 147)", background); // the MudBlazor theme is applied, so its CSS loaded

        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("agents.png") });
    }
}

/// <summary>Debian Chromium for the browser tests; screenshots they take land in docs/screenshots for the README.</summary>
public static class Screenshots
{
    /// <summary>Headless Chromium with the flags this machine needs; disposing it also ends Playwright.</summary>
    public static async Task<TestBrowser> BrowserAsync(params string[] extraArgs)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = TestEnvironment.Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", .. extraArgs],
        });
        return new TestBrowser(playwright, browser);
    }

    /// <summary>A page signed in as the admin at <paramref name="path"/>, once the page named <paramref name="title"/> runs interactively.</summary>
    public static async Task<IPage> SignedInPageAsync(TestBrowser browser, AppFixture fixture, string path, string title, int width = 1280, int height = 900)
    {
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        await page.GotoAsync(new Uri(fixture.App.BaseUri, path).ToString());
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync(title);
        await Assertions.Expect(page.GetByTestId("interactive")).ToHaveTextAsync("yes"); // clicks need the live circuit
        return page;
    }

    /// <summary>A MudBlazor input by its test id (the id lands on the input itself or on its wrapper).</summary>
    public static ILocator Input(IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], textarea[data-testid={testId}], [data-testid={testId}] input, [data-testid={testId}] textarea").First;

    public static string PathFor(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VoiceStudio.sln")))
        {
            dir = dir.Parent;
        }
        var folder = Path.Combine(dir?.FullName ?? Path.GetTempPath(), "docs", "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}

public sealed class TestBrowser(IPlaywright playwright, IBrowser browser) : IAsyncDisposable
{
    public Task<IPage> NewPageAsync(BrowserNewPageOptions options) => browser.NewPageAsync(options);

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
