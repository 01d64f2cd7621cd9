using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceStudio.Tests.Telephony;

/// <summary>
/// Local fakes of the three providers' REST APIs on one loopback server, each checking its auth exactly as the
/// provider documents it (Twilio: basic auth with the account SID and auth token; Exotel: basic auth with the API
/// key and token; Vobiz: X-Auth-ID and X-Auth-Token headers) and answering in the provider's own shapes, errors
/// included. Every request is kept for the test to inspect.
/// </summary>
public sealed class ProviderServer : IAsyncLifetime
{
    public const string TwilioSid = "ACtest0000000000000000000000000001";
    public const string TwilioToken = "twilio-rest-token";
    public const string ExotelSid = "exotest1";
    public const string ExotelKey = "exotel-key";
    public const string ExotelToken = "exotel-token";
    public const string VobizAuthId = "MAVOBIZTEST01";
    public const string VobizToken = "vobiz-rest-token";
    /// <summary>Twilio refuses calls to this number as invalid (error 21211).</summary>
    public const string InvalidNumber = "+14155550666";

    private WebApplication? _app;
    private readonly ConcurrentDictionary<string, string> _liveCalls = new();

    public Uri BaseUri { get; private set; } = null!;

    public sealed record Received(string Provider, string Method, string Path, string? Authorization, IReadOnlyDictionary<string, string> Headers,
        IReadOnlyList<KeyValuePair<string, string>> Form, JsonObject? Json);

    public ConcurrentQueue<Received> Requests { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();

        _app.MapPost("/twilio/2010-04-01/Accounts/{sid}/Calls.json", async (HttpContext http, string sid) =>
        {
            var form = await RecordAsync(http, "twilio");
            if (!Basic(http, TwilioSid, TwilioToken) || sid != TwilioSid)
            {
                return Results.Json(new { code = 20003, message = "Authenticate", more_info = "https://www.twilio.com/docs/errors/20003", status = 401 }, statusCode: 401);
            }
            var to = Value(form, "To");
            if (to is null || Value(form, "From") is null || (Value(form, "Twiml") is null && Value(form, "Url") is null))
            {
                return Results.Json(new { code = 21201, message = "No 'To' number is specified", status = 400 }, statusCode: 400);
            }
            if (to == InvalidNumber)
            {
                return Results.Json(new { code = 21211, message = $"The 'To' number {to} is not a valid phone number.", more_info = "https://www.twilio.com/docs/errors/21211", status = 400 }, statusCode: 400);
            }
            var callSid = $"CA{Guid.NewGuid():N}";
            _liveCalls[callSid] = "queued";
            return Results.Json(new { sid = callSid, account_sid = sid, to, from = Value(form, "From"), status = "queued", direction = "outbound-api" }, statusCode: 201);
        });
        _app.MapPost("/twilio/2010-04-01/Accounts/{sid}/Calls/{callSid}.json", async (HttpContext http, string sid, string callSid) =>
        {
            var form = await RecordAsync(http, "twilio");
            if (!Basic(http, TwilioSid, TwilioToken) || sid != TwilioSid)
            {
                return Results.Json(new { code = 20003, message = "Authenticate", status = 401 }, statusCode: 401);
            }
            if (!_liveCalls.TryGetValue(callSid, out var state) || state == "completed")
            {
                return Results.Json(new { code = 20404, message = $"The requested resource /2010-04-01/Accounts/{sid}/Calls/{callSid}.json was not found", status = 404 }, statusCode: 404);
            }
            _liveCalls[callSid] = Value(form, "Status") == "completed" ? "completed" : "in-progress";
            return Results.Json(new { sid = callSid, status = _liveCalls[callSid] });
        });

        _app.MapPost("/exotel/v1/Accounts/{sid}/Calls/connect.json", async (HttpContext http, string sid) =>
        {
            var form = await RecordAsync(http, "exotel");
            if (!Basic(http, ExotelKey, ExotelToken) || sid != ExotelSid)
            {
                return Results.Json(Exotel("RestException", new JsonObject { ["Status"] = 401, ["Message"] = "Authentication is required to view this page." }), statusCode: 401);
            }
            if (Value(form, "From") is null || Value(form, "CallerId") is null || Value(form, "Url") is null)
            {
                return Results.Json(Exotel("RestException", new JsonObject { ["Status"] = 400, ["Message"] = "Mandatory parameter missing: From, CallerId and Url are required" }), statusCode: 400);
            }
            return Results.Json(Exotel("Call", new JsonObject { ["Sid"] = $"exo{Guid.NewGuid():N}", ["Status"] = "in-progress", ["From"] = Value(form, "From"), ["To"] = Value(form, "CallerId") }));
        });

        _app.MapPost("/vobiz/Account/{id}/Call/", async (HttpContext http, string id) =>
        {
            var received = await RecordJsonAsync(http, "vobiz");
            if (!VobizAuth(http, id))
            {
                return Results.Json(new { api_id = Guid.NewGuid(), error = "authentication failed" }, statusCode: 401);
            }
            if (received?["to"] is null || received["from"] is null || received["answer_url"] is null)
            {
                return Results.Json(new { api_id = Guid.NewGuid(), error = "to, from and answer_url are required" }, statusCode: 400);
            }
            var uuid = Guid.NewGuid().ToString();
            _liveCalls[uuid] = "ringing";
            return Results.Json(new { api_id = Guid.NewGuid(), message = "call fired", request_uuid = uuid }, statusCode: 201);
        });
        _app.MapPost("/vobiz/Account/{id}/Call/{uuid}/", async (HttpContext http, string id, string uuid) =>
        {
            await RecordJsonAsync(http, "vobiz");
            if (!VobizAuth(http, id))
            {
                return Results.Json(new { error = "authentication failed" }, statusCode: 401);
            }
            return _liveCalls.ContainsKey(uuid)
                ? Results.Json(new { api_id = Guid.NewGuid(), message = "call transferred" }, statusCode: 202)
                : Results.Json(new { api_id = Guid.NewGuid(), error = "call not found" }, statusCode: 404);
        });
        _app.MapDelete("/vobiz/Account/{id}/Call/{uuid}/", async (HttpContext http, string id, string uuid) =>
        {
            await RecordJsonAsync(http, "vobiz");
            if (!VobizAuth(http, id))
            {
                return Results.Json(new { error = "authentication failed" }, statusCode: 401);
            }
            return _liveCalls.TryRemove(uuid, out _) ? Results.NoContent() : Results.Json(new { error = "call not found" }, statusCode: 404);
        });

        await _app.StartAsync();
        BaseUri = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }

    /// <summary>Exotel's answers keep their PascalCase names (the default JSON options would camel-case an anonymous object).</summary>
    private static JsonObject Exotel(string root, JsonObject content) => new() { [root] = content };

    /// <summary>Marks a Vobiz call as answered (its request_uuid becomes a live call id).</summary>
    public void Answered(string providerCallId) => _liveCalls[providerCallId] = "in-progress";

    private static string? Value(List<KeyValuePair<string, string>> form, string name) => form.FirstOrDefault(p => p.Key == name).Value;

    private static bool Basic(HttpContext http, string user, string password) =>
        http.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static bool VobizAuth(HttpContext http, string id) =>
        id == VobizAuthId && http.Request.Headers["X-Auth-ID"] == VobizAuthId && http.Request.Headers["X-Auth-Token"] == VobizToken;

    private async Task<List<KeyValuePair<string, string>>> RecordAsync(HttpContext http, string provider)
    {
        var form = http.Request.HasFormContentType
            ? (await http.Request.ReadFormAsync()).SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v ?? ""))).ToList()
            : [];
        Requests.Enqueue(new Received(provider, http.Request.Method, http.Request.Path, http.Request.Headers.Authorization.ToString(),
            http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), form, null));
        return form;
    }

    private async Task<JsonObject?> RecordJsonAsync(HttpContext http, string provider)
    {
        JsonObject? json = null;
        if (http.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            json = await JsonNode.ParseAsync(http.Request.Body) as JsonObject;
        }
        Requests.Enqueue(new Received(provider, http.Request.Method, http.Request.Path, http.Request.Headers.Authorization.ToString(),
            http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), [], json));
        return json;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
