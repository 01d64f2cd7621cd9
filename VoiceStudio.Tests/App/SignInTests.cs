using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using VoiceStudio.Data;
using VoiceStudio.Data.Identity;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.App;

/// <summary>Signing in through the real app: bearer tokens for the API, the cookie for the dashboard, lockout, rate limit.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class SignInTests(AppFixture fixture)
{
    private HttpClient Http() => new() { BaseAddress = fixture.App.BaseUri };

    [Fact]
    public async Task Login_answers_a_bearer_token_that_identifies_the_user()
    {
        using var http = Http();
        var token = await fixture.AdminTokenAsync();
        var stranger = await http.GetAsync("api/auth/me");
        Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
        Assert.Contains("sign in first", await stranger.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var me = JsonDocument.Parse(await http.GetStringAsync("api/auth/me"));
        Assert.Equal("admin", me.RootElement.GetProperty("username").GetString());
        Assert.Equal(["admin"], me.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token[..^4] + "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/auth/me")).StatusCode);
    }

    [Theory]
    [InlineData("""{"password":"x"}""", HttpStatusCode.BadRequest, "username is required")]
    [InlineData("""{"username":"admin"}""", HttpStatusCode.BadRequest, "password is required")]
    [InlineData("""{"username":"nobody","password":"whatever-it-is"}""", HttpStatusCode.Unauthorized, "wrong username or password")]
    public async Task Bad_sign_ins_are_refused_with_the_reason(string body, HttpStatusCode status, string detail)
    {
        using var http = Http();
        var response = await http.PostAsync("api/auth/login", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(detail, json.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_even_against_the_right_one()
    {
        const string password = "the-right-password";
        var name = $"locked-{Guid.NewGuid():N}"[..16];
        await CreateUserAsync(name, password, Roles.Viewer);
        using var http = Http();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await http.PostAsJsonAsync("api/auth/login", new { username = name, password = "wrong-password" })).StatusCode);
        }
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 4), HttpStatusCode.Locked], statuses);
        var right = await http.PostAsJsonAsync("api/auth/login", new { username = name, password });
        Assert.Equal(HttpStatusCode.Locked, right.StatusCode);
        Assert.Contains("locked after too many wrong passwords; try again in 5 minutes", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_viewer_may_sign_in_but_not_open_the_test_console_socket()
    {
        const string password = "viewer-password";
        var name = $"viewer-{Guid.NewGuid():N}"[..16];
        await CreateUserAsync(name, password, Roles.Viewer);
        using var http = Http();
        var login = await http.PostAsJsonAsync("api/auth/login", new { username = name, password });
        using var token = JsonDocument.Parse(await login.Content.ReadAsStringAsync());
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token.RootElement.GetProperty("access_token").GetString()}");
        var uri = new Uri(fixture.App.BaseUri, "ws/browser/demo?mode=text").ToString().Replace("http", "ws", StringComparison.Ordinal);
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => socket.ConnectAsync(new Uri(uri), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Fact]
    public async Task The_dashboard_sends_strangers_to_the_sign_in_page_and_back_after_signing_in()
    {
        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 720 } });
        await page.GotoAsync(fixture.App.BaseUri.ToString());
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login\\?ReturnUrl=%2F$"));

        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync("wrong username or password");
        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("login.png") });

        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Overview"); // back where they were going
        await Assertions.Expect(page.GetByTestId("tile-calls-today")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("admin");
        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("overview.png") });

        await page.GetByLabel("sign out").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login$"));
        await page.GotoAsync(fixture.App.BaseUri.ToString());
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login\\?ReturnUrl=%2F$"));
    }

    [Fact]
    public async Task Each_address_gets_a_limited_number_of_sign_in_attempts_a_minute()
    {
        var url = $"http://127.0.0.1:{AppProcess.FreePort()}";
        await using var app = AppProcess.Start(new Dictionary<string, string?>(fixture.Environment)
        {
            ["INSTANCE_ID"] = $"ratelimit-{Guid.NewGuid():N}",
            ["REDIS_KEY_PREFIX"] = TestEnvironment.NewRedisPrefix(),
            ["RECORDINGS_DIR"] = Path.Combine(Path.GetTempPath(), "vs-test-recordings", Guid.NewGuid().ToString("N")),
            ["LOGIN_ATTEMPTS_PER_MINUTE"] = "3",
            ["STT_WARM_DECODERS"] = "0",
            ["ASPNETCORE_URLS"] = url,
        });
        await app.WaitUntilLiveAsync();
        using var http = new HttpClient { BaseAddress = app.BaseUri };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await http.PostAsJsonAsync("api/auth/login", new { username = "nobody", password = "whatever-it-is" })).StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        var refused = await http.PostAsJsonAsync("api/auth/login", new { username = "admin", password = AppFixture.AdminPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("too many sign-in attempts", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task CreateUserAsync(string name, string password, string role)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<VoiceStudioDbContext>(options => VoiceStudioDbContext.Configure(options, fixture.Database.ConnectionString));
        services.AddIdentityCore<User>(options =>
            {
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequireDigit = false;
                options.Password.RequireUppercase = false;
            }).AddRoles<Role>().AddEntityFrameworkStores<VoiceStudioDbContext>();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        var user = new User { UserName = name, Email = $"{name}@example.test", CreatedAt = DateTimeOffset.UtcNow };
        var created = await users.CreateAsync(user, password);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.Select(e => e.Description)));
        Assert.True((await users.AddToRoleAsync(user, role)).Succeeded);
    }
}
