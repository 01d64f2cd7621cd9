using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace VoiceStudio.Tests.App;

/// <summary>The users page in Chromium: an admin adds a user, who can sign in with their role, and hands them a reset link that works.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class UsersPageTests(AppFixture fixture)
{
    [Fact]
    public async Task An_admin_adds_a_user_and_gives_them_a_working_reset_link()
    {
        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        await page.GotoAsync(new Uri(fixture.App.BaseUri, "users").ToString());
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Users");
        await Assertions.Expect(page.GetByTestId("interactive")).ToHaveTextAsync("yes");

        var name = $"ui-{Guid.NewGuid():N}"[..11];
        await page.Locator("input[data-testid=new-username], [data-testid=new-username] input").First.FillAsync(name);
        await page.Locator("input[data-testid=new-password], [data-testid=new-password] input").First.FillAsync("a-good-long-password");
        await page.GetByTestId("add-user").ClickAsync();
        var row = page.Locator("tr", new() { Has = page.GetByTestId("user-name").GetByText(name, new() { Exact = true }) });
        await Assertions.Expect(row).ToBeVisibleAsync();

        using var http = new HttpClient { BaseAddress = fixture.App.BaseUri };
        var login = await http.PostAsJsonAsync("api/auth/login", new { username = name, password = "a-good-long-password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(["viewer"], JsonNode.Parse(await login.Content.ReadAsStringAsync())!["roles"]!.AsArray().Select(r => r!.GetValue<string>()));

        await row.GetByTestId("make-reset-link").ClickAsync();
        var link = await page.GetByTestId("reset-link").Locator("code").InnerTextAsync();
        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("users.png") });
        var other = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1024, Height = 720 } });
        await other.GotoAsync(link);
        await other.FillAsync("#password", "a-brand-new-password");
        await other.ClickAsync("button[type=submit]");
        await Assertions.Expect(other.GetByTestId("login-reset")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("api/auth/login", new { username = name, password = "a-brand-new-password" })).StatusCode);
    }
}
