using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using StackExchange.Redis;
using VoiceStudio.Media.Simulation;
using VoiceStudio.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VoiceStudio.Tests.App;

/// <summary>
/// The live monitor in Chromium while the simulated caller talks to the demo agent: the call appears, its transcript
/// grows as it is spoken, its node follows the flow, and it leaves the list when it ends. The lag from each caller
/// utterance's final text (the server's user_spoke time) to that text on the screen is measured and reported.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class LiveCallsPageTests(AppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_live_call_shows_up_grows_its_transcript_as_spoken_and_leaves_when_it_ends()
    {
        await using var browser = await Screenshots.BrowserAsync();
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        await page.GotoAsync(new Uri(fixture.App.BaseUri, "live").ToString());
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", AppFixture.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Live calls");
        await Assertions.Expect(page.GetByTestId("live-count")).ToBeVisibleAsync();

        // The server's time of each caller utterance's final text, from the live channel the page also listens to.
        var finals = new ConcurrentQueue<DateTimeOffset>();
        var subscriber = TestEnvironment.Redis.GetSubscriber();
        var channel = RedisChannel.Literal($"{fixture.RedisKeyPrefix}calls");
        string? callId = null;
        await subscriber.SubscribeAsync(channel, (_, message) =>
        {
            using var json = JsonDocument.Parse(message.ToString());
            if (json.RootElement.GetProperty("type").GetString() == "user_spoke" && json.RootElement.GetProperty("call_id").GetString() == Volatile.Read(ref callId))
            {
                finals.Enqueue(DateTimeOffset.Parse(json.RootElement.GetProperty("at").GetString()!, CultureInfo.InvariantCulture));
            }
        });
        try
        {
            using var http = new HttpClient();
            var caller = Task.Run(() => SimulatedCaller.RunAsync(fixture.App.BaseUri, "twilio", "demo", CallerScript.Parse(CallerScript.DemoBooking),
                new SimulatedCallerOptions { Transcribe = false, WebhookSecret = AppFixture.WebhookSecret("twilio"), MaxCallDuration = TimeSpan.FromSeconds(90) },
                null, http, CancellationToken.None));
            var card = page.GetByTestId("live-call");
            await Assertions.Expect(card).ToHaveCountAsync(1, new() { Timeout = 15000 });
            Volatile.Write(ref callId, await card.GetAttributeAsync("data-call-id"));
            await Assertions.Expect(card.GetByTestId("live-node")).ToHaveTextAsync("main_menu");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("live-calls.png") });

            var lags = new List<double>();
            for (var n = 1; n <= 3; n++)
            {
                var shown = await page.WaitForFunctionAsync(
                    "n => Array.from(document.querySelectorAll('[data-testid=live-line]')).filter(l => l.textContent.trim().startsWith('caller')).length >= n",
                    n, new() { PollingInterval = 10, Timeout = 30000 });
                var visibleAt = DateTimeOffset.UtcNow;
                var until = Stopwatch.StartNew();
                while (finals.Count < n && until.Elapsed < TimeSpan.FromSeconds(2))
                {
                    await Task.Delay(5);
                }
                lags.Add((visibleAt - finals.ElementAt(n - 1)).TotalMilliseconds);
            }
            await Assertions.Expect(card).ToHaveCountAsync(0, new() { Timeout = 60000 }); // it ends and leaves the list
            var result = await caller;
            Assert.StartsWith("agent closed the stream", result.Ended, StringComparison.Ordinal);
            lags.Sort();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"live-transcript lag (user_spoke on the server → caller line visible in Chromium), {lags.Count} utterances: {string.Join(", ", lags.Select(l => $"{l:0} ms"))}"));
        }
        finally
        {
            await subscriber.UnsubscribeAsync(channel);
        }
    }
}
