using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Tests.App;

/// <summary>The settings page in Chromium: masked provider credentials, a concurrency limit changed, an API key made and used.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class SettingsPageTests(AppFixture fixture)
{
    [Fact]
    public async Task An_admin_changes_a_limit_and_creates_an_api_key_that_works()
    {
        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        await page.GotoAsync(new Uri(fixture.App.BaseUri, "settings").ToString());
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Settings");
        await Assertions.Expect(page.GetByTestId("interactive")).ToHaveTextAsync("yes"); // clicks need the live circuit
        await Assertions.Expect(page.GetByTestId("providers")).ToContainTextAsync("••••cret"); // twilio's token from the environment, masked
        await Assertions.Expect(page.GetByTestId("providers")).Not.ToContainTextAsync("test-twilio-webhook-secret");

        try
        {
            var limit = page.Locator("input[data-testid=limit-exotel], [data-testid=limit-exotel] input").First;
            await limit.FillAsync("7");
            await page.GetByTestId("save-limit-exotel").ClickAsync();
            await Assertions.Expect(page.GetByText("at most 7 concurrent calls")).ToBeVisibleAsync();
            await using (var db = fixture.Database.NewContext())
            {
                Assert.Equal(7, (await db.TelephonyProviders.AsNoTracking().SingleAsync(p => p.Provider == TelephonyProvider.Exotel)).MaxConcurrent);
            }

            await page.Locator("input[data-testid=key-name], [data-testid=key-name] input").First.FillAsync("from the settings page");
            await page.GetByTestId("create-key").ClickAsync();
            var shown = await page.GetByTestId("new-key").Locator("code").InnerTextAsync();
            Assert.StartsWith("vs_", shown, StringComparison.Ordinal);
            await Assertions.Expect(page.GetByTestId("keys")).ToContainTextAsync("from the settings page");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("settings.png") });

            using var http = new HttpClient { BaseAddress = fixture.App.BaseUri };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", shown);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/auth/me")).StatusCode);
        }
        finally
        {
            await using var db = fixture.Database.NewContext();
            await db.TelephonyProviders.Where(p => p.Provider == TelephonyProvider.Exotel).ExecuteUpdateAsync(p => p.SetProperty(x => x.MaxConcurrent, 10));
        }
    }
}
