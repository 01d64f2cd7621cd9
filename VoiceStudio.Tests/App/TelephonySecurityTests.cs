using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Media.Telephony;

namespace VoiceStudio.Tests.App;

/// <summary>
/// Webhook signatures and stream tokens on the real server (verification on, as in production): a provider's
/// genuine request opens a call and a stream; a tampered, unsigned or replayed-elsewhere one is refused before a
/// call row exists or any audio is processed.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class TelephonySecurityTests(AppFixture fixture)
{
    private Uri Webhook(string provider, string query = "") => new(fixture.App.BaseUri, $"telephony/{provider}/inbound/demo{query}");

    private static Dictionary<string, string> Form(string callSid) => new()
    {
        ["CallSid"] = callSid,
        ["CallUUID"] = callSid,
        ["From"] = "+15550001234",
        ["To"] = "+15550005678",
        ["CallStatus"] = "ringing",
    };

    private async Task<bool> CallExistsAsync(string providerCallId)
    {
        await using var db = fixture.Database.NewContext();
        return await db.Calls.AnyAsync(c => c.ProviderCallId == providerCallId);
    }

    private static async Task<HttpResponseMessage> PostAsync(Uri url, Dictionary<string, string> form, Action<HttpRequestMessage>? sign = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        sign?.Invoke(request);
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task Twilio_webhooks_need_a_valid_signature()
    {
        var sid = $"CA{Guid.NewGuid():N}";
        var form = Form(sid);
        var url = Webhook("twilio");
        var secret = AppFixture.WebhookSecret("twilio");
        var signature = WebhookSignatures.Twilio(secret, url.ToString(), form);

        var missing = await PostAsync(url, form);
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Contains("X-Twilio-Signature", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var tampered = new Dictionary<string, string>(form) { ["From"] = "+15559999999" };
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(url, tampered, r => r.Headers.Add("X-Twilio-Signature", signature))).StatusCode);
        Assert.False(await CallExistsAsync(sid));

        var genuine = await PostAsync(url, form, r => r.Headers.Add("X-Twilio-Signature", signature));
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        var stream = XDocument.Parse(await genuine.Content.ReadAsStringAsync()).Descendants("Stream").Single();
        var parameters = stream.Elements("Parameter").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);
        Assert.True(Guid.TryParse(parameters["call_id"], out _));
        Assert.True(parameters["token"].Length > 40);
        Assert.True(await CallExistsAsync(sid));
    }

    [Fact]
    public async Task Vobiz_webhooks_need_a_valid_v3_signature_and_exotel_its_secret()
    {
        var sid = Guid.NewGuid().ToString();
        var form = Form(sid);
        var url = Webhook("vobiz");
        var nonce = "12345678901234567890";
        var signature = WebhookSignatures.VobizV3(AppFixture.WebhookSecret("vobiz"), url, form, nonce);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(url, form)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(url, form, r =>
        {
            r.Headers.Add("X-Vobiz-Signature-V3", signature);
            r.Headers.Add("X-Vobiz-Signature-V3-Nonce", "another-nonce");
        })).StatusCode);
        Assert.False(await CallExistsAsync(sid));
        var genuine = await PostAsync(url, form, r =>
        {
            r.Headers.Add("X-Vobiz-Signature-V3", $"bogus, {signature}"); // the header may list several signatures
            r.Headers.Add("X-Vobiz-Signature-V3-Nonce", nonce);
        });
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        Assert.Contains("token=", await genuine.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var exotel = Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(Webhook("exotel", "?secret=wrong"), Form(exotel))).StatusCode);
        Assert.False(await CallExistsAsync(exotel));
        var answer = await PostAsync(Webhook("exotel", $"?secret={AppFixture.WebhookSecret("exotel")}"), Form(exotel));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("token=", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Media_sockets_without_a_valid_stream_token_are_refused_before_any_audio()
    {
        // Vobiz and Exotel carry the token in the URL: refused before the upgrade.
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync("ws/vobiz/demo"));
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync($"ws/vobiz/demo?call_id={Guid.NewGuid()}&token=forged"));
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync("ws/exotel/demo?sample-rate=8000"));

        // A genuine token works only for its own agent and provider.
        var sid = Guid.NewGuid().ToString();
        var nonce = Guid.NewGuid().ToString("N");
        var url = Webhook("vobiz");
        var answer = await PostAsync(url, Form(sid), r =>
        {
            r.Headers.Add("X-Vobiz-Signature-V3", WebhookSignatures.VobizV3(AppFixture.WebhookSecret("vobiz"), url, Form(sid), nonce));
            r.Headers.Add("X-Vobiz-Signature-V3-Nonce", nonce);
        });
        var socketUrl = new Uri(XDocument.Parse(await answer.Content.ReadAsStringAsync()).Descendants("Stream").Single().Value);
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync($"ws/exotel/demo{socketUrl.Query}"));

        // Twilio's token comes in the start message: a stream without it is closed before any audio, and no call starts.
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(fixture.App.BaseUri.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "ws/twilio/demo"), CancellationToken.None);
        var streamSid = $"MZ{Guid.NewGuid():N}";
        var callSid = $"CA{Guid.NewGuid():N}";
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"event":"connected","protocol":"Call","version":"1.0.0"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes($$$"""{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"{{{streamSid}}}","callSid":"{{{callSid}}}","tracks":["inbound"],"customParameters":{},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"{{{streamSid}}}"}"""),
            WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        WebSocketReceiveResult result;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
        }
        while (result.MessageType != WebSocketMessageType.Close);
        Assert.Contains("token", socket.CloseStatusDescription ?? "", StringComparison.Ordinal);
        Assert.False(await CallExistsAsync(callSid));
    }

    private async Task<HttpStatusCode?> UpgradeStatusAsync(string path)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var uri = new Uri(fixture.App.BaseUri.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + path);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        return socket.HttpStatusCode;
    }
}
