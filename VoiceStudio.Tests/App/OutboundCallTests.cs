using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Simulation;
using VoiceStudio.Media.Telephony;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Tests.Telephony;

using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>
/// Outbound calls, status callbacks, hang-up and transfer through each provider's REST API, against local fakes of
/// those APIs that check auth and parameters as the providers document them. An app instance of its own is pointed
/// at the fakes (it shares the suite's database and so its accounts, agents and key ring).
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class OutboundCallTests(AppFixture fixture, ProviderServer providers) : IClassFixture<ProviderServer>
{
    private async Task<(AppProcess App, HttpClient Api)> StartAsync()
    {
        var app = AppProcess.Start(new Dictionary<string, string?>(fixture.Environment)
        {
            ["STT_WARM_DECODERS"] = "1",
            ["TWILIO_ACCOUNT_SID"] = ProviderServer.TwilioSid,
            ["TWILIO_AUTH_TOKEN"] = ProviderServer.TwilioToken,
            ["TWILIO_PHONE_NUMBER"] = "+14155550001",
            ["TWILIO_API_BASE"] = new Uri(providers.BaseUri, "twilio").ToString(),
            ["EXOTEL_SID"] = ProviderServer.ExotelSid,
            ["EXOTEL_API_KEY"] = ProviderServer.ExotelKey,
            ["EXOTEL_API_TOKEN"] = ProviderServer.ExotelToken,
            ["EXOTEL_APP_ID"] = "424242",
            ["EXOTEL_WEBHOOK_SECRET"] = AppFixture.WebhookSecret("exotel"),
            ["EXOTEL_PHONE_NUMBER"] = "+918047000001",
            ["EXOTEL_API_BASE"] = new Uri(providers.BaseUri, "exotel").ToString(),
            ["VOBIZ_AUTH_ID"] = ProviderServer.VobizAuthId,
            ["VOBIZ_AUTH_TOKEN"] = ProviderServer.VobizToken,
            ["VOBIZ_PHONE_NUMBER"] = "+918047000002",
            ["VOBIZ_API_BASE"] = new Uri(providers.BaseUri, "vobiz").ToString(),
        });
        await app.WaitUntilLiveAsync();
        var api = new HttpClient { BaseAddress = app.BaseUri };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.AdminTokenAsync()); // the shared key ring reads it
        return (app, api);
    }

    [Fact]
    public async Task Twilio_places_the_call_streams_it_hangs_up_by_rest_and_status_callbacks_never_go_backwards()
    {
        var (app, api) = await StartAsync();
        await using var _ = app;
        using var __ = api;
        var placed = await ReadAsync(await api.PostAsync("api/calls/outbound", Json("""
            {"phone_number": "+1 415 555 0100", "agent_name": "demo", "provider": "twilio", "custom_parameters": {"caller_name": "Ada", "vip": true}}
            """)), HttpStatusCode.Created);
        var callId = Guid.Parse(placed["call_id"]!.GetValue<string>());
        var sid = placed["provider_call_id"]!.GetValue<string>();

        // What Twilio received: its documented Calls.json request.
        var dial = providers.Requests.Last(r => r.Path.EndsWith("/Calls.json", StringComparison.Ordinal));
        var form = dial.Form.ToLookup(p => p.Key, p => p.Value);
        Assert.Equal(("+14155550100", "+14155550001"), (form["To"].Single(), form["From"].Single()));
        Assert.Equal(["initiated", "ringing", "answered", "completed"], form["StatusCallbackEvent"]);
        Assert.Equal($"{app.BaseUri}telephony/twilio/status?call_id={callId}", form["StatusCallback"].Single());
        var stream = XDocument.Parse(form["Twiml"].Single()).Descendants("Stream").Single();
        var parameters = stream.Elements("Parameter").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);
        Assert.Equal(("Ada", "true", callId.ToString()), (parameters["caller_name"], parameters["vip"], parameters["call_id"]));

        // The callee answers: Twilio opens the stream from the TwiML; the demo agent ends the call and hangs up through REST.
        var result = await SimulatedCaller.AnswerAsync("twilio", new Uri(stream.Attribute("url")!.Value), parameters, CallerScript.Parse("wait; dtmf 2; wait 20"),
            new SimulatedCallerOptions { Transcribe = false, ProviderCallId = sid, MaxCallDuration = TimeSpan.FromSeconds(60) }, null, CancellationToken.None);
        Assert.StartsWith("agent closed the stream", result.Ended, StringComparison.Ordinal);
        await using (var db = fixture.Database.NewContext())
        {
            var call = await ConsoleClient.WaitForEndAsync(db, callId);
            Assert.Equal((CallDirection.Outbound, "+14155550100", sid), (call.Direction, call.ToNumber, call.ProviderCallId));
            Assert.Contains("\"caller_name\":\"Ada\"", call.ContextVariables.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        var hangUp = providers.Requests.Last(r => r.Path.EndsWith($"/Calls/{sid}.json", StringComparison.Ordinal));
        Assert.Equal("completed", hangUp.Form.Single(p => p.Key == "Status").Value);
        Assert.StartsWith("Basic ", hangUp.Authorization, StringComparison.Ordinal);

        // Late and repeated callbacks: a finished call stays finished.
        Assert.False((await StatusAsync(app, callId, sid, "ringing"))["applied"]!.GetValue<bool>());
        Assert.False((await StatusAsync(app, callId, sid, "completed"))["applied"]!.GetValue<bool>());
        using var unsigned = new HttpClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await unsigned.PostAsync(new Uri(app.BaseUri, $"telephony/twilio/status?call_id={callId}"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["CallSid"] = sid, ["CallStatus"] = "busy" }))).StatusCode);
        await using (var db = fixture.Database.NewContext())
        {
            Assert.Equal(CallStatus.Completed, (await db.Calls.AsNoTracking().SingleAsync(c => c.Id == callId)).Status);
        }

        // A call that is never answered: callbacks out of order end as no_answer and ringing cannot undo it.
        var unanswered = await ReadAsync(await api.PostAsync("api/calls/outbound", Json("""{"phone_number": "+14155550101", "agent_name": "demo"}""")), HttpStatusCode.Created);
        var otherId = Guid.Parse(unanswered["call_id"]!.GetValue<string>());
        var otherSid = unanswered["provider_call_id"]!.GetValue<string>();
        Assert.True((await StatusAsync(app, otherId, otherSid, "no-answer"))["applied"]!.GetValue<bool>());
        Assert.False((await StatusAsync(app, otherId, otherSid, "ringing"))["applied"]!.GetValue<bool>());
        Assert.Equal("no_answer", (await StatusAsync(app, otherId, otherSid, "in-progress"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refusals_come_back_with_the_providers_words_and_the_call_row_says_failed()
    {
        var (app, api) = await StartAsync();
        await using var _ = app;
        using var __ = api;
        var refused = await ReadAsync(await api.PostAsync("api/calls/outbound", Json($$"""{"phone_number": "{{ProviderServer.InvalidNumber}}", "agent_name": "demo", "provider": "twilio"}""")),
            HttpStatusCode.BadRequest);
        Assert.Equal($"twilio refused the call: The 'To' number {ProviderServer.InvalidNumber} is not a valid phone number.", refused["detail"]!.GetValue<string>());
        Assert.Equal(21211, refused["provider_response"]!["code"]!.GetValue<int>());
        await using (var db = fixture.Database.NewContext())
        {
            var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == Guid.Parse(refused["call_id"]!.GetValue<string>()));
            Assert.Equal(CallStatus.Failed, call.Status);
            Assert.Contains("not a valid phone number", call.EndReason, StringComparison.Ordinal);
        }

        var bad = await ReadAsync(await api.PostAsync("api/calls/outbound", Json("""{"phone_number": "12", "agent_name": "nobody", "provider": "skype", "custom_parameters": {"x": [1]}}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["phone_number", "agent_name", "provider", "custom_parameters.x"], bad["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()));
        using var bare = new HttpClient { BaseAddress = app.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.PostAsync("api/calls/outbound", Json("{}"))).StatusCode);

        // Exotel: its documented Calls/connect into the account's Voicebot app.
        var exotel = await ReadAsync(await api.PostAsync("api/calls/outbound", Json("""{"phone_number": "+919876543210", "agent_name": "demo", "provider": "exotel"}""")), HttpStatusCode.Created);
        var connect = providers.Requests.Last(r => r.Provider == "exotel");
        var fields = connect.Form.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(("+919876543210", "+918047000001", $"http://my.exotel.com/{ProviderServer.ExotelSid}/exoml/start_voice/424242", exotel["call_id"]!.GetValue<string>()),
            (fields["From"], fields["CallerId"], fields["Url"], fields["CustomField"]));
        Assert.StartsWith("exo", exotel["provider_call_id"]!.GetValue<string>(), StringComparison.Ordinal);
        // Exotel's status callback comes back to the URL it was given, whose secret is its credential.
        using var plain = new HttpClient();
        var callback = await plain.PostAsync(new Uri(fields["StatusCallback"]), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["CallSid"] = exotel["provider_call_id"]!.GetValue<string>(),
            ["Status"] = "busy",
        }));
        Assert.Equal("busy", (await ReadAsync(callback, HttpStatusCode.OK))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await plain.PostAsync(new Uri(app.BaseUri, $"telephony/exotel/status?call_id={exotel["call_id"]}"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["Status"] = "completed" }))).StatusCode);

        // Over the provider's limit, the outbound API refuses at once.
        await ReadAsync(await api.PutAsync("api/settings/telephony", Json("""{"providers": {"twilio": {"max_concurrent": 0}}}""")), HttpStatusCode.OK);
        try
        {
            var full = await ReadAsync(await api.PostAsync("api/calls/outbound", Json("""{"phone_number": "+14155550102", "agent_name": "demo", "provider": "twilio"}""")),
                HttpStatusCode.ServiceUnavailable);
            Assert.Contains("limit of 0", full["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        finally
        {
            await ReadAsync(await api.PutAsync("api/settings/telephony", Json("""{"providers": {"twilio": {"max_concurrent": 10}}}""")), HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Vobiz_answers_through_its_answer_url_and_a_transfer_node_moves_the_call_by_rest()
    {
        var (app, api) = await StartAsync();
        await using var _ = app;
        using var __ = api;
        var agent = await TransferAgentAsync(api);
        var placed = await ReadAsync(await api.PostAsync("api/calls/outbound", Json($$"""{"phone_number": "+919876500001", "agent_name": "{{agent}}", "provider": "vobiz"}""")), HttpStatusCode.Created);
        var callId = Guid.Parse(placed["call_id"]!.GetValue<string>());
        var uuid = placed["provider_call_id"]!.GetValue<string>();
        var fired = providers.Requests.Last(r => r.Provider == "vobiz" && r.Method == "POST" && r.Path.EndsWith("/Call/", StringComparison.Ordinal));
        Assert.Equal(("919876500001", "918047000002"), (fired.Json!["to"]!.GetValue<string>(), fired.Json["from"]!.GetValue<string>()));
        var answerUrl = new Uri(fired.Json["answer_url"]!.GetValue<string>());

        // The callee picks up: Vobiz asks the answer URL (signed) for its XML and opens the stream.
        var xml = await SignedVobizPostAsync(answerUrl, new Dictionary<string, string> { ["CallUUID"] = uuid, ["CallStatus"] = "in-progress" });
        var socketUrl = new Uri(XDocument.Parse(xml).Descendants("Stream").Single().Value);
        providers.Answered(uuid);
        var result = await SimulatedCaller.AnswerAsync("vobiz", socketUrl, [], CallerScript.Parse("wait 20"),
            new SimulatedCallerOptions { Transcribe = false, ProviderCallId = uuid, MaxCallDuration = TimeSpan.FromSeconds(60) }, null, CancellationToken.None);
        Assert.StartsWith("agent closed the stream", result.Ended, StringComparison.Ordinal);

        var transfer = providers.Requests.Last(r => r.Provider == "vobiz" && r.Path.EndsWith($"/Call/{uuid}/", StringComparison.Ordinal) && r.Method == "POST");
        Assert.Equal("aleg", transfer.Json!["legs"]!.GetValue<string>());
        var alegUrl = new Uri(transfer.Json["aleg_url"]!.GetValue<string>());
        var dial = XDocument.Parse(await SignedVobizPostAsync(alegUrl, new Dictionary<string, string> { ["CallUUID"] = uuid }));
        Assert.Equal("14155550999", dial.Descendants("Number").Single().Value);
        await using var db = fixture.Database.NewContext();
        var call = await ConsoleClient.WaitForEndAsync(db, callId);
        Assert.Equal("transferred to +14155550999", call.EndReason);
        var recorded = await db.CallEvents.AsNoTracking().Where(e => e.CallId == callId && e.Type == CallEventTypes.Transfer).Select(e => e.Data).ToListAsync();
        Assert.Contains(recorded, d => d.Contains("\"ok\": true", StringComparison.Ordinal) || d.Contains("\"ok\":true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Twilio_transfers_by_new_twiml_and_vobiz_hangs_up_by_delete()
    {
        var (app, api) = await StartAsync();
        await using var _ = app;
        using var __ = api;
        var transferAgent = await TransferAgentAsync(api);

        async Task<string> TwilioTransferAsync()
        {
            var placed = await ReadAsync(await api.PostAsync("api/calls/outbound", Json($$"""{"phone_number": "+14155550103", "agent_name": "{{transferAgent}}", "provider": "twilio"}""")), HttpStatusCode.Created);
            var sid = placed["provider_call_id"]!.GetValue<string>();
            var twiml = providers.Requests.Last(r => r.Path.EndsWith("/Calls.json", StringComparison.Ordinal) && r.Form.Any(p => p.Key == "To" && p.Value == "+14155550103"));
            var stream = XDocument.Parse(twiml.Form.Single(p => p.Key == "Twiml").Value).Descendants("Stream").Single();
            await SimulatedCaller.AnswerAsync("twilio", new Uri(stream.Attribute("url")!.Value), stream.Elements("Parameter").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value),
                CallerScript.Parse("wait 20"), new SimulatedCallerOptions { Transcribe = false, ProviderCallId = sid, MaxCallDuration = TimeSpan.FromSeconds(60) }, null, CancellationToken.None);
            return providers.Requests.Last(r => r.Path.EndsWith($"/Calls/{sid}.json", StringComparison.Ordinal)).Form.Single(p => p.Key == "Twiml").Value;
        }

        async Task<(string Method, Guid CallId, string HangupUrl, string Uuid)> VobizHangUpAsync()
        {
            var placed = await ReadAsync(await api.PostAsync("api/calls/outbound", Json("""{"phone_number": "+919876500002", "agent_name": "demo", "provider": "vobiz"}""")), HttpStatusCode.Created);
            var uuid = placed["provider_call_id"]!.GetValue<string>();
            var fired = providers.Requests.Last(r => r.Provider == "vobiz" && r.Json?["to"]?.GetValue<string>() == "919876500002");
            var xml = await SignedVobizPostAsync(new Uri(fired.Json!["answer_url"]!.GetValue<string>()), new Dictionary<string, string> { ["CallUUID"] = uuid });
            await SimulatedCaller.AnswerAsync("vobiz", new Uri(XDocument.Parse(xml).Descendants("Stream").Single().Value), [], CallerScript.Parse("wait; dtmf 2; wait 20"),
                new SimulatedCallerOptions { Transcribe = false, ProviderCallId = uuid, MaxCallDuration = TimeSpan.FromSeconds(60) }, null, CancellationToken.None);
            var deleted = providers.Requests.Last(r => r.Provider == "vobiz" && r.Path.EndsWith($"/Call/{uuid}/", StringComparison.Ordinal));
            return (deleted.Method, Guid.Parse(placed["call_id"]!.GetValue<string>()), fired.Json["hangup_url"]!.GetValue<string>(), uuid);
        }

        var twilio = TwilioTransferAsync();
        var vobiz = VobizHangUpAsync();
        Assert.Equal("<Response><Dial>+14155550999</Dial></Response>", await twilio);
        var (method, callId, hangupUrl, uuid) = await vobiz;
        Assert.Equal("DELETE", method);

        // Vobiz then reports the hang-up on the hangup URL, signed: the finished call stays completed.
        var report = await SignedVobizPostAsync(new Uri(hangupUrl), new Dictionary<string, string> { ["CallUUID"] = uuid, ["CallStatus"] = "completed" });
        Assert.Equal("completed", JsonNode.Parse(report)!["status"]!.GetValue<string>());
        await using var db = fixture.Database.NewContext();
        Assert.Equal("agent ended the call", (await ConsoleClient.WaitForEndAsync(db, callId)).EndReason);
    }

    private static async Task<JsonNode> StatusAsync(AppProcess app, Guid callId, string sid, string status)
    {
        var url = new Uri(app.BaseUri, $"telephony/twilio/status?call_id={callId}");
        var form = new Dictionary<string, string> { ["CallSid"] = sid, ["CallStatus"] = status, ["AccountSid"] = ProviderServer.TwilioSid };
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", WebhookSignatures.Twilio(ProviderServer.TwilioToken, url.ToString(), form));
        return await ReadAsync(await http.SendAsync(request), HttpStatusCode.OK);
    }

    private static async Task<string> SignedVobizPostAsync(Uri url, Dictionary<string, string> form)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        var nonce = Guid.NewGuid().ToString("N");
        request.Headers.Add("X-Vobiz-Signature-V3-Nonce", nonce);
        request.Headers.Add("X-Vobiz-Signature-V3", WebhookSignatures.VobizV3(ProviderServer.VobizToken, url, form, nonce));
        var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>An agent that greets and transfers at once: a say node into a transfer node.</summary>
    private static async Task<string> TransferAgentAsync(HttpClient api)
    {
        var export = JsonNode.Parse(await api.GetStringAsync("api/agents/demo/export"))!.AsObject();
        export["agent"]!["greeting"] = null;
        export["flow"] = JsonNode.Parse("""
            [{"node_key": "hello", "type": "say", "is_initial": true, "config": {"text": "Connecting you now.", "next_node_key": "desk"}},
             {"node_key": "desk", "type": "transfer", "config": {"number": "+14155550999", "message": "Please hold."}}]
            """);
        var name = $"xfer-{Guid.NewGuid():N}"[..12];
        await ReadAsync(await api.PostAsync($"api/agents/import?name={name}", Json(export.ToJsonString())), HttpStatusCode.Created);
        // The designer is told that Exotel cannot transfer.
        var flow = JsonNode.Parse(await api.GetStringAsync($"api/agents/{name}/flow"))!;
        Assert.Contains("Exotel", Assert.Single(flow["warnings"]!.AsArray(), w => w!["node"]!.GetValue<string>() == "desk")!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        return name;
    }
}
