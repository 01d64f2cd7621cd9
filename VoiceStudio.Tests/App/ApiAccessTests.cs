using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>API keys, the OpenAPI document and its reference page, and the calls API, on the real server.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class ApiAccessTests(AppFixture fixture)
{

    [Fact]
    public async Task An_api_key_is_shown_once_stored_hashed_acts_as_its_user_and_stops_when_revoked()
    {
        using var admin = await ApiClient.AdminAsync(fixture);
        var created = await ReadAsync(await admin.PostAsync("api/auth/keys", new StringContent("""{"name": "crm sync"}""", Encoding.UTF8, "application/json")), HttpStatusCode.Created);
        var key = created["key"]!.GetValue<string>();
        Assert.StartsWith("vs_", key, StringComparison.Ordinal);
        Assert.Equal(46, key.Length);
        await using (var db = fixture.Database.NewContext())
        {
            var row = await db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == Guid.Parse(created["id"]!.GetValue<string>()));
            Assert.NotEqual(key, row.KeyHash);
            Assert.Equal(64, row.KeyHash.Length);
            Assert.Null(row.LastUsedAt);
        }

        // As a bearer token and as X-API-Key: the key's user, with its roles.
        using var byBearer = new HttpClient { BaseAddress = fixture.App.BaseUri };
        byBearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal("admin", (await ReadAsync(await byBearer.GetAsync("api/auth/me"), HttpStatusCode.OK))["username"]!.GetValue<string>());
        using var byHeader = new HttpClient { BaseAddress = fixture.App.BaseUri };
        byHeader.DefaultRequestHeaders.Add("X-API-Key", key);
        await ReadAsync(await byHeader.GetAsync("api/settings/telephony"), HttpStatusCode.OK); // admin-only works
        var listed = (await ReadAsync(await admin.GetAsync("api/auth/keys"), HttpStatusCode.OK)).AsArray().Single(k => k!["id"]!.GetValue<string>() == created["id"]!.GetValue<string>())!;
        Assert.Null(listed["key"]); // never shown again
        Assert.NotNull(listed["last_used_at"]);

        using var forged = new HttpClient { BaseAddress = fixture.App.BaseUri };
        forged.DefaultRequestHeaders.Add("X-API-Key", key[..^2] + "xx");
        Assert.Contains("not valid", (await ReadAsync(await forged.GetAsync("api/auth/me"), HttpStatusCode.Unauthorized))["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"api/auth/keys/{created["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await byBearer.GetAsync("api/auth/me")).StatusCode);
        await ReadAsync(await admin.PostAsync("api/auth/keys", new StringContent("""{"name": ""}""", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_api_and_the_reference_page_serves_without_signing_in()
    {
        using var http = new HttpClient { BaseAddress = fixture.App.BaseUri };
        var document = await ReadAsync(await http.GetAsync("openapi/v1.json"), HttpStatusCode.OK);
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        foreach (var path in new[] { "/api/auth/login", "/api/agents/{agent}/flow", "/api/calls/outbound", "/api/calls", "/api/settings/telephony", "/api/phone-numbers", "/api/auth/keys" })
        {
            Assert.Contains(path, paths);
        }
        Assert.NotNull(document["components"]!["securitySchemes"]!["api_key"]);
        Assert.DoesNotContain(paths, p => p.StartsWith("/telephony", StringComparison.Ordinal) || p.StartsWith("/ws", StringComparison.Ordinal));
        var page = await http.GetAsync("api/docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("VoiceStudio API", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_are_listed_paged_and_filtered_and_bad_filters_name_the_field()
    {
        using var admin = await ApiClient.AdminAsync(fixture);
        // Calls of earlier tests may still be being stored: the total lies between the counts before and after.
        int before;
        await using (var count = fixture.Database.NewContext())
        {
            before = await count.Calls.CountAsync();
        }
        var all = await ReadAsync(await admin.GetAsync("api/calls?page_size=2"), HttpStatusCode.OK);
        Assert.Equal(2, all["page_size"]!.GetValue<int>());
        Assert.True(all["items"]!.AsArray().Count <= 2);
        var total = all["total"]!.GetValue<int>();
        await using (var db = fixture.Database.NewContext())
        {
            Assert.InRange(total, before, await db.Calls.CountAsync());
            var completedBefore = await db.Calls.CountAsync(c => c.IsTest && c.Status == VoiceStudio.Data.Calls.CallStatus.Completed);
            var filtered = await ReadAsync(await admin.GetAsync("api/calls?status=completed&is_test=true&page_size=100"), HttpStatusCode.OK);
            Assert.InRange(filtered["total"]!.GetValue<int>(), completedBefore, await db.Calls.CountAsync(c => c.IsTest && c.Status == VoiceStudio.Data.Calls.CallStatus.Completed));
            Assert.All(filtered["items"]!.AsArray(), c => Assert.Equal(("completed", true), (c!["status"]!.GetValue<string>(), c["is_test"]!.GetValue<bool>())));
        }
        var bad = await ReadAsync(await admin.GetAsync("api/calls?page=0&page_size=500&status=lost&from=yesterday"), HttpStatusCode.BadRequest);
        Assert.Equal(["page", "page_size", "status", "from"], bad["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()));
        await ReadAsync(await admin.GetAsync($"api/calls/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        using var bare = new HttpClient { BaseAddress = fixture.App.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.GetAsync("api/calls")).StatusCode);

        if (all["items"]!.AsArray().FirstOrDefault() is { } first)
        {
            var id = first["id"]!.GetValue<string>();
            var call = await ReadAsync(await admin.GetAsync($"api/calls/{id}"), HttpStatusCode.OK);
            Assert.NotNull(call["transcript"]);
            var events = await ReadAsync(await admin.GetAsync($"api/calls/{id}/events"), HttpStatusCode.OK);
            Assert.True(events.AsArray().Count > 0);
        }
    }

    [Fact]
    public async Task The_api_answers_cross_origin_requests_only_from_the_dashboard_url()
    {
        using var http = new HttpClient { BaseAddress = fixture.App.BaseUri };
        async Task<HttpResponseMessage> PreflightAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "api/calls");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "authorization");
            return await http.SendAsync(request);
        }
        var allowed = await PreflightAsync(AppFixture.DashboardOrigin);
        Assert.Equal(AppFixture.DashboardOrigin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", allowed.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        var other = await PreflightAsync("https://evil.example.test");
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
