using Microsoft.Playwright;
using VoiceStudio.Media.Simulation;

namespace VoiceStudio.Tests.App;

/// <summary>
/// The calls pages in Chromium: a call the simulated caller made (keypad to the opening hours) is in the list; its
/// page shows the transcript, the node path, the per-turn latency, the events, and a recording the browser can load.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class CallsPageTests(AppFixture fixture)
{
    [Fact]
    public async Task A_simulated_call_is_listed_and_its_page_shows_transcript_path_events_and_a_playable_recording()
    {
        using var http = new HttpClient();
        var result = await SimulatedCaller.RunAsync(fixture.App.BaseUri, "twilio", "demo", CallerScript.Parse("wait; dtmf 2; wait 20"),
            new SimulatedCallerOptions { Transcribe = false, WebhookSecret = AppFixture.WebhookSecret("twilio"), MaxCallDuration = TimeSpan.FromSeconds(60) },
            null, http, CancellationToken.None);
        var callId = Guid.Parse(result.CallId!);
        await using (var db = fixture.Database.NewContext())
        {
            await ConsoleClient.WaitForEndAsync(db, callId);
        }

        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        await page.GotoAsync(new Uri(fixture.App.BaseUri, "calls").ToString());
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Calls");
        await Assertions.Expect(page.GetByTestId("call-agent").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("calls.png") });

        await page.GotoAsync(new Uri(fixture.App.BaseUri, $"calls/{callId}").ToString());
        await Assertions.Expect(page.GetByTestId("call-status")).ToHaveTextAsync("completed");
        await Assertions.Expect(page.GetByTestId("transcript")).ToContainTextAsync("Monday to Friday");
        await Assertions.Expect(page.GetByTestId("node-path")).ToContainTextAsync("opening_hours");
        await Assertions.Expect(page.GetByTestId("events")).ToContainTextAsync("dtmf");
        await Assertions.Expect(page.GetByTestId("events")).Not.ToContainTextAsync("\"token\""); // the stream token is never stored
        // The recording loads through the API with the dashboard's cookie: the browser knows its length.
        var seconds = await page.WaitForFunctionAsync(
            "() => { const a = document.querySelector('[data-testid=recording]'); return a && a.readyState >= 1 && isFinite(a.duration) ? a.duration : null; }",
            null, new() { Timeout = 15000 });
        Assert.InRange(await seconds.JsonValueAsync<double>(), 5, 120);
        // Both sides spoke, so both lanes of the waveform have ink; a click halfway seeks the audio halfway.
        await Assertions.Expect(page.GetByTestId("waveform")).ToBeVisibleAsync();
        var box = (await page.GetByTestId("waveform").BoundingBoxAsync())!;
        await page.Mouse.ClickAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        var position = await page.WaitForFunctionAsync(
            "() => { const a = document.querySelector('[data-testid=recording]'); return a.currentTime > 0 ? a.currentTime / a.duration : null; }", null, new() { Timeout = 10000 });
        Assert.InRange(await position.JsonValueAsync<double>(), 0.45, 0.55);
        var mp3 = await page.APIRequest.GetAsync(new Uri(fixture.App.BaseUri, $"api/calls/{callId}/recording?format=mp3").ToString());
        Assert.Equal(200, mp3.Status);
        Assert.Equal("audio/mpeg", mp3.Headers["content-type"]);
        Assert.True((await mp3.BodyAsync()).Length > 10_000);
        await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("call-detail.png"), FullPage = false });
    }
}
