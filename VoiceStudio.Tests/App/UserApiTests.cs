using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>Users and roles on the real server: admins manage users, roles limit endpoints, a reset link works once in the browser.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class UserApiTests(AppFixture fixture)
{

    private async Task<HttpResponseMessage> LoginAsync(string username, string password)
    {
        using var http = new HttpClient { BaseAddress = fixture.App.BaseUri };
        return await http.PostAsJsonAsync("api/auth/login", new { username, password });
    }

    [Fact]
    public async Task Admins_manage_users_and_each_role_reaches_only_its_endpoints()
    {
        using var admin = await ApiClient.AdminAsync(fixture);
        var name = $"des-{Guid.NewGuid():N}"[..12];
        var created = await ReadAsync(await admin.PostAsync("api/users", Json($$"""{"username": "{{name}}", "password": "designer-password", "role": "designer"}""")), HttpStatusCode.Created);
        Assert.Equal("designer", created["role"]!.GetValue<string>());
        var bad = await ReadAsync(await admin.PostAsync("api/users", Json("""{"username": "x1", "password": "short", "role": "king"}""")), HttpStatusCode.BadRequest);
        Assert.Contains(bad["errors"]!.AsArray(), e => e!["field"]!.GetValue<string>() == "role");

        var login = await ReadAsync(await LoginAsync(name, "designer-password"), HttpStatusCode.OK);
        using var designer = new HttpClient { BaseAddress = fixture.App.BaseUri };
        designer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login["access_token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await designer.GetAsync("api/agents/demo/flow")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await designer.GetAsync("api/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await designer.GetAsync("api/settings/telephony")).StatusCode);

        // A viewer reads calls but changes nothing.
        var id = created["id"]!.GetValue<string>();
        await ReadAsync(await admin.PatchAsync($"api/users/{id}", Json("""{"role": "viewer", "display_name": "Dana"}""")), HttpStatusCode.OK);
        var viewerLogin = await ReadAsync(await LoginAsync(name, "designer-password"), HttpStatusCode.OK);
        designer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", viewerLogin["access_token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await designer.GetAsync("api/calls")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await designer.PutAsync("api/agents/demo/flow", Json("""{"nodes": []}"""))).StatusCode);

        // Locked users cannot sign in; admins cannot lock or delete themselves.
        await ReadAsync(await admin.PatchAsync($"api/users/{id}", Json("""{"locked": true}""")), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Locked, (await LoginAsync(name, "designer-password")).StatusCode);
        var me = await ReadAsync(await admin.GetAsync("api/auth/me"), HttpStatusCode.OK);
        await ReadAsync(await admin.PatchAsync($"api/users/{me["id"]}", Json("""{"locked": true}""")), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.DeleteAsync($"api/users/{me["id"]}"), HttpStatusCode.Conflict);
        await ReadAsync(await admin.DeleteAsync($"api/users/{id}"), HttpStatusCode.NoContent);
        Assert.DoesNotContain((await ReadAsync(await admin.GetAsync("api/users"), HttpStatusCode.OK)).AsArray(), u => u!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task A_reset_link_sets_a_new_password_in_the_browser_once()
    {
        using var admin = await ApiClient.AdminAsync(fixture);
        var name = $"rst-{Guid.NewGuid():N}"[..12];
        var created = await ReadAsync(await admin.PostAsync("api/users", Json($$"""{"username": "{{name}}", "password": "the-old-password", "role": "supervisor"}""")), HttpStatusCode.Created);
        var link = (await ReadAsync(await admin.PostAsync($"api/users/{created["id"]}/reset-link", null), HttpStatusCode.OK))["link"]!.GetValue<string>();

        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1024, Height = 720 } });
        await page.GotoAsync(link);
        await page.FillAsync("#password", "the-new-password");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.GetByTestId("login-reset")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(name, "the-new-password")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(name, "the-old-password")).StatusCode);

        await page.GotoAsync(link); // the same link again
        await page.FillAsync("#password", "another-new-password");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.GetByTestId("reset-error")).ToContainTextAsync("used already");
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(name, "another-new-password")).StatusCode);
    }
}
