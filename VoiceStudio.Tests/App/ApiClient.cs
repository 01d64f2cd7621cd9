using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace VoiceStudio.Tests.App;

/// <summary>What the API tests share: a client signed in as the seeded admin, JSON bodies, and reading an answer of an expected status.</summary>
internal static class ApiClient
{
    public static async Task<HttpClient> AdminAsync(AppFixture fixture, Uri? baseUri = null)
    {
        var http = new HttpClient { BaseAddress = baseUri ?? fixture.App.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.AdminTokenAsync());
        return http;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(JsonNode body) => Json(body.ToJsonString());

    /// <summary>The answer's JSON (an empty object for an empty body), after checking its status; the body is in the failure message.</summary>
    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }
}
