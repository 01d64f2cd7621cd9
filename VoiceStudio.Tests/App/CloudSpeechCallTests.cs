using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Simulation;
using VoiceStudio.Tests.Speech;
using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>
/// Cloud speech in real calls: a simulated Twilio caller talks to an agent that hears through Deepgram and speaks
/// through OpenAI speech, both served by the local protocol fake; and the same agent with refused keys falls back to
/// the embedded recognizer and voice within the turn, with the reason in the call's events.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class CloudSpeechCallTests(AppFixture fixture)
{
    private const string Flow = """
        {"nodes": [
          {"node_key": "menu", "type": "ask", "is_initial": true,
           "config": {"prompt": "Would you like to book an appointment?",
                      "intents": [{"name": "book", "phrases": ["book an appointment", "book"], "next_node_key": "booked"}],
                      "no_match": {"reprompt": "Sorry, say book an appointment.", "max": 3}, "no_input": {"reprompt": "Are you there?", "max": 3},
                      "fallback_node_key": "booked"}},
          {"node_key": "booked", "type": "end", "config": {"text": "You are booked. Goodbye!"}}]}
        """;

    private async Task<string> AgentAsync(CloudSpeechServer server, string? key, string stt = "deepgram", string tts = "openai")
    {
        var name = $"cloud-{Guid.NewGuid():N}"[..12];
        using var api = await AdminAsync(fixture);
        await ReadAsync(await api.PostAsync("api/agents", Json(new JsonObject
        {
            ["name"] = name,
            ["stt_provider"] = stt,
            ["tts_provider"] = tts,
            // without a key here, the installation's speech settings apply
            ["provider_settings"] = key is null ? new JsonObject() : new JsonObject
            {
                ["deepgram"] = new JsonObject { ["base_url"] = server.BaseUri.ToString(), ["api_key"] = key },
                ["openai_tts"] = new JsonObject { ["base_url"] = new Uri(server.BaseUri, "v1/").ToString(), ["api_key"] = key },
                ["openai_stt"] = new JsonObject { ["base_url"] = new Uri(server.BaseUri, "v1/").ToString(), ["api_key"] = key },
                ["elevenlabs"] = new JsonObject { ["base_url"] = server.BaseUri.ToString(), ["api_key"] = key },
                ["cartesia"] = new JsonObject { ["base_url"] = server.BaseUri.ToString(), ["api_key"] = key },
            },
        })), HttpStatusCode.Created);
        await ReadAsync(await api.PutAsync($"api/agents/{name}/flow", Json(Flow)), HttpStatusCode.OK);
        return name;
    }

    private async Task<(Call Call, List<CallEvent> Events)> CallAsync(string agent)
    {
        using var http = new HttpClient();
        var result = await SimulatedCaller.RunAsync(fixture.App.BaseUri, "twilio", agent, CallerScript.Parse("wait; say book an appointment; wait 8"),
            new SimulatedCallerOptions { Transcribe = false, WebhookSecret = AppFixture.WebhookSecret("twilio"), MaxCallDuration = TimeSpan.FromSeconds(60) },
            null, http, CancellationToken.None);
        var id = Guid.Parse(result.CallId!);
        await using var db = fixture.Database.NewContext();
        await ConsoleClient.WaitForEndAsync(db, id);
        await Task.Delay(500); // the usage and the last events are written as the call ends
        return (await db.Calls.AsNoTracking().SingleAsync(c => c.Id == id),
            await db.CallEvents.AsNoTracking().Where(e => e.CallId == id).OrderBy(e => e.Id).ToListAsync());
    }

    [Fact]
    public async Task A_call_hears_through_deepgram_and_speaks_through_openai_and_counts_its_usage()
    {
        await using var server = await CloudSpeechServer.StartAsync();
        server.Transcripts.Enqueue("book an appointment");
        var (call, events) = await CallAsync(await AgentAsync(server, CloudSpeechServer.Key));

        Assert.Contains("book an appointment", call.Transcript, StringComparison.Ordinal);
        Assert.Contains("You are booked.", call.Transcript, StringComparison.Ordinal);
        Assert.Contains(events, e => e.Type == CallEventTypes.NodeEntered && e.Data.Contains("booked", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Type == CallEventTypes.Error);
        Assert.Contains("Would you like to book an appointment?", server.SpokenTexts); // the voice was the provider's
        Assert.Contains("You are booked.", server.SpokenTexts);
        Assert.True(server.DeepgramAudioBytes > 8000, "the caller's audio went to deepgram");
        var query = Assert.Single(server.DeepgramQueries);
        Assert.Contains("encoding=mulaw&sample_rate=8000", query, StringComparison.Ordinal); // Twilio's μ-law, passed through as it came
        Assert.Contains("Finalize", server.DeepgramControl);
        var usage = JsonNode.Parse(call.Usage)!;
        Assert.True(usage["stt_seconds"]!.GetValue<double>() > 0.5);
        Assert.Equal(server.SpokenTexts.Sum(t => t.Length), usage["tts_characters"]!.GetValue<long>()); // what the provider was asked to say
        var latency = events.First(e => e.Type == CallEventTypes.TurnLatency);
        Assert.Contains("stt_final_ms", latency.Data, StringComparison.Ordinal);
        Assert.Contains("first_tts_audio_ms", latency.Data, StringComparison.Ordinal);
        var interim = System.Text.Json.Nodes.JsonNode.Parse(latency.Data)!["stt_first_interim_ms"];
        Assert.True(interim is not null && interim.GetValue<double>() > 0, latency.Data); // Deepgram's first text of the turn, timed
        Assert.True(call.RecordingPath is not null);

        // the call page shows what the call used
        await using var browser = await Screenshots.BrowserAsync();
        var page = await Screenshots.SignedInPageAsync(browser, fixture, $"calls/{call.Id}", $"Call with {call.AgentName}");
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("usage").First).ToContainTextAsync("Speech heard (cloud STT)");
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("usage").Nth(1)).ToContainTextAsync($"Characters spoken (cloud TTS){usage["tts_characters"]}");
    }

    [Theory]
    [InlineData("openai", "elevenlabs")]
    [InlineData("deepgram", "cartesia")]
    public async Task Every_provider_pair_carries_a_whole_call(string stt, string tts)
    {
        await using var server = await CloudSpeechServer.StartAsync();
        server.Transcripts.Enqueue("book an appointment");
        var (call, events) = await CallAsync(await AgentAsync(server, CloudSpeechServer.Key, stt, tts));
        Assert.DoesNotContain(events, e => e.Type == CallEventTypes.Error);
        Assert.Contains("book an appointment", call.Transcript, StringComparison.Ordinal); // heard through the provider
        Assert.Contains("Would you like to book an appointment?", server.SpokenTexts); // spoken through the provider
        Assert.Contains("You are booked.", server.SpokenTexts);
        Assert.Contains(events, e => e.Type == CallEventTypes.NodeEntered && e.Data.Contains("booked", StringComparison.Ordinal));
        var usage = JsonNode.Parse(call.Usage)!;
        Assert.True(usage["stt_seconds"]!.GetValue<double>() > 0.5);
        Assert.True(usage["tts_characters"]!.GetValue<long>() > 40);
    }

    [Fact]
    public async Task Installation_keys_are_stored_encrypted_shown_masked_and_used_by_calls()
    {
        await using var server = await CloudSpeechServer.StartAsync();
        using var api = await AdminAsync(fixture);
        using (var anonymous = new HttpClient { BaseAddress = fixture.App.BaseUri })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/settings/speech")).StatusCode);
        }
        var bad = await ReadAsync(await api.PutAsync("api/settings/speech", Json("""{"deepgram": {"base_url": "ftp://nowhere"}, "polly": {}}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["deepgram.base_url", "polly"], bad["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()).Order());
        try
        {
            var shown = await ReadAsync(await api.PutAsync("api/settings/speech", Json(new JsonObject
            {
                ["deepgram"] = new JsonObject { ["api_key"] = CloudSpeechServer.Key, ["base_url"] = server.BaseUri.ToString() },
                ["openai"] = new JsonObject { ["api_key"] = CloudSpeechServer.Key, ["base_url"] = new Uri(server.BaseUri, "v1/").ToString() },
            })), HttpStatusCode.OK);
            var deepgram = shown.AsArray().Single(p => p!["provider"]!.GetValue<string>() == "deepgram")!;
            Assert.Equal("••••-key", deepgram["api_key"]!.GetValue<string>());
            Assert.Equal("settings", deepgram["key_source"]!.GetValue<string>());
            await using (var db = fixture.Database.NewContext())
            {
                var stored = await db.SpeechProviders.AsNoTracking().SingleAsync(p => p.Provider == "deepgram");
                Assert.DoesNotContain(CloudSpeechServer.Key, stored.ApiKeyProtected!, StringComparison.Ordinal); // encrypted at rest
            }
            // a masked key sent back keeps the stored one
            await ReadAsync(await api.PutAsync("api/settings/speech", Json("""{"deepgram": {"api_key": "••••-key"}}""")), HttpStatusCode.OK);

            server.Transcripts.Enqueue("book an appointment");
            var (call, events) = await CallAsync(await AgentAsync(server, key: null));
            Assert.DoesNotContain(events, e => e.Type == CallEventTypes.Error);
            Assert.Contains("book an appointment", call.Transcript, StringComparison.Ordinal);
            Assert.Contains("Would you like to book an appointment?", server.SpokenTexts);
        }
        finally
        {
            await ReadAsync(await api.PutAsync("api/settings/speech", Json("""{"deepgram": {"api_key": null, "base_url": null}, "openai": {"api_key": null, "base_url": null}}""")), HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task The_agent_editor_plays_a_sample_of_a_cloud_voice_and_names_a_missing_or_refused_key()
    {
        await using var server = await CloudSpeechServer.StartAsync();
        var name = await AgentAsync(server, CloudSpeechServer.Key);
        await using var browser = await Screenshots.BrowserAsync();
        var page = await Screenshots.SignedInPageAsync(browser, fixture, $"agents/{name}", name);
        await page.Locator(".mud-tab", new() { HasText = "Voice and models" }).ClickAsync();
        await page.GetByTestId("test-voice").ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("voice-sample")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^data:audio/wav;base64,"));
        Assert.Contains("Hello! This is how I will sound on the phone.", server.SpokenTexts);
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("tts-key-problem")).ToHaveCountAsync(0);

        using (var api = await AdminAsync(fixture))
        {
            await ReadAsync(await api.PatchAsync($"api/agents/{name}", Json(new JsonObject
            {
                ["stt_provider"] = "openai",
                ["provider_settings"] = new JsonObject
                {
                    ["deepgram"] = new JsonObject { ["base_url"] = server.BaseUri.ToString(), ["api_key"] = "••••-key" },
                    ["openai_stt"] = new JsonObject { ["api_key_env"] = "NO_SUCH_VARIABLE_FOR_TESTS" },
                    ["openai_tts"] = new JsonObject { ["base_url"] = new Uri(server.BaseUri, "v1/").ToString(), ["api_key"] = "a-wrong-key" },
                },
            })), HttpStatusCode.OK);
        }
        await page.ReloadAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("interactive")).ToHaveTextAsync("yes");
        await page.Locator(".mud-tab", new() { HasText = "Voice and models" }).ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("stt-key-problem")).ToContainTextAsync("no API key for openai");
        await page.GetByTestId("test-voice").ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("voice-problem")).ToContainTextAsync("401");
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("voice-problem")).ToContainTextAsync("check the API key");
        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("agent-voice.png") });
    }

    [Fact]
    public async Task Refused_keys_fall_back_to_the_embedded_speech_within_the_turn_and_say_why()
    {
        await using var server = await CloudSpeechServer.StartAsync();
        var (call, events) = await CallAsync(await AgentAsync(server, "a-wrong-key"));

        var errors = events.Where(e => e.Type == CallEventTypes.Error).Select(e => e.Data).ToList();
        Assert.Contains(errors, e => e.Contains("speech (openai) failed, the embedded voice takes over", StringComparison.Ordinal) && e.Contains("401", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("speech recognition (deepgram) failed, the embedded recognizer takes over", StringComparison.Ordinal));
        Assert.Empty(server.SpokenTexts);
        // No dead air: the embedded voice asked, the embedded recognizer heard the caller, and the flow went on.
        Assert.Contains("Would you like to book an appointment?", call.Transcript, StringComparison.Ordinal);
        Assert.Contains(events, e => e.Type == CallEventTypes.NodeEntered && e.Data.Contains("booked", StringComparison.Ordinal));
        Assert.Equal(CallStatus.Completed, call.Status);
    }
}
