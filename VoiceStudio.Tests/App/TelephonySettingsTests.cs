using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Telephony;

using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>The telephony settings and phone-number API on the real server: masked, encrypted, partial, applied at once.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class TelephonySettingsTests(AppFixture fixture)
{

    [Fact]
    public async Task Secrets_are_encrypted_masked_and_take_effect_at_once_and_limits_too()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        using var bare = new HttpClient { BaseAddress = fixture.App.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.GetAsync("api/settings/telephony")).StatusCode);

        var before = await ReadAsync(await http.GetAsync("api/settings/telephony"), HttpStatusCode.OK);
        Assert.Equal("••••cret", before["providers"]!["twilio"]!["auth_token"]!.GetValue<string>()); // from TWILIO_AUTH_TOKEN, masked
        Assert.True(before["verify_requests"]!.GetValue<bool>());
        Assert.DoesNotContain("test-twilio-webhook-secret", before.ToJsonString(), StringComparison.Ordinal);

        try
        {
            var changed = await ReadAsync(await http.PutAsync("api/settings/telephony", Json("""
                {"providers": {"vobiz": {"auth_token": "a-new-vobiz-token-1234", "phone_number": "+1 (415) 555-0123", "account_id": "MA123"}}}
                """)), HttpStatusCode.OK);
            var vobiz = changed["providers"]!["vobiz"]!;
            Assert.Equal(("••••1234", "+14155550123", "MA123"), (vobiz["auth_token"]!.GetValue<string>(), vobiz["phone_number"]!.GetValue<string>(), vobiz["account_id"]!.GetValue<string>()));
            Assert.Equal(10, vobiz["max_concurrent"]!.GetValue<int>()); // untouched fields keep their values
            await using (var db = fixture.Database.NewContext())
            {
                var stored = await db.TelephonyProviders.AsNoTracking().SingleAsync(p => p.Provider == TelephonyProvider.Vobiz);
                Assert.DoesNotContain("a-new-vobiz-token", stored.AuthTokenProtected!, StringComparison.Ordinal);
                Assert.True(stored.AuthTokenProtected!.Length > 40);
            }

            // Vobiz webhooks are now checked with the new token: the old one no longer signs.
            Assert.Equal(HttpStatusCode.OK, await VobizWebhookAsync("a-new-vobiz-token-1234"));
            Assert.Equal(HttpStatusCode.Forbidden, await VobizWebhookAsync(AppFixture.WebhookSecret("vobiz")));

            // A limit of 0 refuses the next socket at once.
            await ReadAsync(await http.PutAsync("api/settings/telephony", Json("""{"providers": {"exotel": {"max_concurrent": 0}}}""")), HttpStatusCode.OK);
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            var url = new Uri(fixture.App.BaseUri.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + $"ws/exotel/demo?secret={AppFixture.WebhookSecret("exotel")}");
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(url, CancellationToken.None));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.HttpStatusCode);
        }
        finally
        {
            await ReadAsync(await http.PutAsync("api/settings/telephony", Json("""
                {"providers": {"vobiz": {"auth_token": null, "phone_number": null, "account_id": null}, "exotel": {"max_concurrent": 10}}}
                """)), HttpStatusCode.OK);
        }
        Assert.Equal(HttpStatusCode.OK, await VobizWebhookAsync(AppFixture.WebhookSecret("vobiz"))); // back to the environment's token
    }

    [Fact]
    public async Task Bad_settings_are_refused_field_by_field_and_nothing_changes()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var refused = await ReadAsync(await http.PutAsync("api/settings/telephony", Json("""
            {"public_base_url": "ftp://x", "default_provider": "skype", "nope": 1,
             "providers": {"twilio": {"max_concurrent": -1, "phone_number": "12", "bogus": true}, "sipgate": {}}}
            """)), HttpStatusCode.BadRequest);
        var fields = refused["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["public_base_url", "default_provider", "nope", "providers.twilio.max_concurrent", "providers.twilio.phone_number", "providers.twilio.bogus", "providers.sipgate"], fields);
        var after = await ReadAsync(await http.GetAsync("api/settings/telephony"), HttpStatusCode.OK);
        Assert.Equal(10, after["providers"]!["twilio"]!["max_concurrent"]!.GetValue<int>());
        await ReadAsync(await http.PutAsync("api/settings/telephony", Json("[1]")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_phone_number_gets_a_webhook_url_that_answers_with_its_inbound_agent()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var number = $"+1415555{Random.Shared.Next(1000, 9999)}";
        var created = await ReadAsync(await http.PostAsync("api/phone-numbers", Json($$"""{"number": "{{number}}", "provider": "twilio", "inbound_agent": "demo", "label": "Front desk"}""")), HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        var webhook = new Uri(created["webhook_url"]!.GetValue<string>());
        Assert.Equal($"/telephony/twilio/number/{id}", webhook.AbsolutePath);
        Assert.Equal("demo", created["inbound_agent"]!.GetValue<string>());

        var duplicate = await ReadAsync(await http.PostAsync("api/phone-numbers", Json($$"""{"number": "{{number}}", "provider": "twilio"}""")), HttpStatusCode.BadRequest);
        Assert.Contains("already listed", duplicate["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var bad = await ReadAsync(await http.PostAsync("api/phone-numbers", Json("""{"number": "call me", "provider": "fax", "inbound_agent": "nobody"}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["number", "provider", "inbound_agent"], bad["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()));

        // The provider calls the number's webhook, signed: the demo agent answers with the stream.
        var form = new Dictionary<string, string> { ["CallSid"] = $"CA{Guid.NewGuid():N}", ["From"] = "+15550001111", ["To"] = number };
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", WebhookSignatures.Twilio(AppFixture.WebhookSecret("twilio"), webhook.ToString(), form));
        var answer = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("/ws/twilio/demo", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var patched = await ReadAsync(await http.PatchAsync($"api/phone-numbers/{id}", Json("""{"label": "Night line", "inbound_agent": null}""")), HttpStatusCode.OK);
        Assert.Equal("Night line", patched["label"]!.GetValue<string>());
        Assert.Null(patched["inbound_agent"]);
        Assert.Contains(JsonNode.Parse(await http.GetStringAsync("api/phone-numbers"))!.AsArray(), n => n!["id"]!.GetValue<string>() == id);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"api/phone-numbers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"api/phone-numbers/{id}")).StatusCode);
    }

    private async Task<HttpStatusCode> VobizWebhookAsync(string token)
    {
        var url = new Uri(fixture.App.BaseUri, "telephony/vobiz/inbound/demo");
        var form = new Dictionary<string, string> { ["CallUUID"] = Guid.NewGuid().ToString(), ["From"] = "+15550001111", ["To"] = "+15550002222" };
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Vobiz-Signature-V3-Nonce", "n1");
        request.Headers.Add("X-Vobiz-Signature-V3", WebhookSignatures.VobizV3(token, url, form, "n1"));
        return (await http.SendAsync(request)).StatusCode;
    }
}
