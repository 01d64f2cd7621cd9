using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace VoiceStudio.Tests.Benchmarks;

/// <summary>
/// The flow designer with a big flow (ARCHITECTURE.md yardsticks): a chain of N nodes is put on a new agent through
/// the API, then (1) saving it is timed: <c>PUT /api/agents/{a}/flow</c>, which validates and stores a version like
/// Publish, and the designer's autosave of the draft as the page does it; (2) Chromium opens the designer and a node is
/// dragged across the canvas while every animation frame's start time is recorded in the page; the frame time is
/// the gap between consecutive frames (16.7 ms at 60 Hz).
/// </summary>
public static class DesignerBenchmark
{
    public static async Task<string> RunAsync(Uri server, string user, string password, int nodes, string chromium)
    {
        using var http = new HttpClient { BaseAddress = server };
        var login = await http.PostAsJsonAsync("api/auth/login", new { username = user, password });
        login.EnsureSuccessStatusCode();
        var token = JsonNode.Parse(await login.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var agent = $"bench-designer-{Guid.NewGuid():N}"[..23];
        (await http.PostAsJsonAsync("api/agents", new { name = agent })).EnsureSuccessStatusCode();
        var flow = Chain(nodes);

        var puts = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var answer = await http.PutAsync($"api/agents/{agent}/flow", new StringContent(flow.ToJsonString(), Encoding.UTF8, "application/json"));
            answer.EnsureSuccessStatusCode();
            if (i > 0)
            {
                puts.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 900 } });
        await page.GotoAsync(new Uri(server, $"agents/{agent}/flow").ToString());
        await page.FillAsync("#username", user);
        await page.FillAsync("#password", password);
        var opened = Stopwatch.GetTimestamp();
        await page.ClickAsync("button[type=submit]");
        await page.Locator(".react-flow__node").Nth(nodes - 1).WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 60000 });
        var openMs = Stopwatch.GetElapsedTime(opened).TotalMilliseconds;
        await page.WaitForTimeoutAsync(1000); // the page fits the flow into view once every node is measured
        var first = (await page.Locator(".react-flow__node[data-id='n1']").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(first.X, first.Y);
        await page.Mouse.WheelAsync(0, -500); // then zoom in where nodes are big enough to grab
        await page.WaitForTimeoutAsync(400);
        var inView = await page.EvaluateAsync<string[]>("""
            () => { const c = document.querySelector('[data-testid=canvas]').getBoundingClientRect();
                    return [...document.querySelectorAll('.react-flow__node')].filter(n => { const r = n.getBoundingClientRect();
                      return r.left > c.left + 10 && r.right < c.right - 200 && r.top > c.top + 10 && r.bottom < c.bottom - 150; }).map(n => n.dataset.id); }
            """);
        if (inView.Length < 8)
        {
            throw new InvalidOperationException($"only {inView.Length} nodes are in view to drag");
        }

        var frameGaps = new List<double>();
        for (var drag = 0; drag < 5; drag++)
        {
            var target = page.Locator($".react-flow__node[data-id='{inView[drag]}']");
            var box = (await target.BoundingBoxAsync())!;
            await page.EvaluateAsync("""
                () => { window.__frames = []; window.__recording = true;
                        const tick = (t) => { if (!window.__recording) return; window.__frames.push(t); requestAnimationFrame(tick); };
                        requestAnimationFrame(tick); }
                """);
            await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + 12);
            await page.Mouse.DownAsync();
            for (var step = 1; step <= 60; step++)
            {
                await page.Mouse.MoveAsync(box.X + box.Width / 2 + step * 2, box.Y + 12 + step);
                await page.WaitForTimeoutAsync(16);
            }
            await page.Mouse.UpAsync();
            var frames = await page.EvaluateAsync<double[]>("() => { window.__recording = false; return window.__frames; }");
            frameGaps.AddRange(frames.Zip(frames.Skip(1), (a, b) => b - a));
        }
        await page.Locator("[data-testid=save-status]").Filter(new() { HasText = "Draft saved" }).WaitForAsync(new() { Timeout = 10000 });

        // The draft autosave as the page runs it, timed on the server: the status line shows when it finished, so
        // time a few saves through the page's own path by dragging once more and waiting for the status to change.
        var drafts = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var box = (await page.Locator($".react-flow__node[data-id='{inView[5 + i % 3]}']").BoundingBoxAsync())!;
            await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + 12);
            await page.Mouse.DownAsync();
            await page.Mouse.MoveAsync(box.X + box.Width / 2 + 40, box.Y + 40, new() { Steps = 5 });
            await page.Mouse.UpAsync();
            await page.Locator("[data-testid=save-status]").Filter(new() { HasText = "Unsaved" }).WaitForAsync(new() { Timeout = 5000 });
            var started = Stopwatch.GetTimestamp();
            await page.Locator("[data-testid=save-status]").Filter(new() { HasText = "Draft saved" }).WaitForAsync(new() { Timeout = 10000 });
            drafts.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds - 700); // minus the autosave's 700 ms pause after the last edit
        }
        playwright.Dispose();
        (await http.DeleteAsync($"api/agents/{agent}")).EnsureSuccessStatusCode();

        string P(List<double> values, double p)
        {
            var sorted = values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)].ToString("0.0", CultureInfo.InvariantCulture);
        }
        return $"""
            designer benchmark: {nodes} nodes ({flow["nodes"]!.AsArray().Count} in the document), server {server}
            save (PUT flow: validate + new version), {puts.Count} runs: p50 {P(puts, 0.5)} ms, p95 {P(puts, 0.95)} ms, max {P(puts, 1)} ms
            draft autosave seen in the page (status change minus the 700 ms pause), {drafts.Count} runs: p50 {P(drafts, 0.5)} ms, max {P(drafts, 1)} ms
            open the designer until all {nodes} nodes are drawn (after sign-in): {openMs:0} ms
            drag frame time (gap between animation frames while dragging), {frameGaps.Count} frames: p50 {P(frameGaps, 0.5)} ms, p95 {P(frameGaps, 0.95)} ms, max {P(frameGaps, 1)} ms
            """;
    }

    /// <summary>n1 → n2 → … → a goodbye: say nodes on a grid, every one reachable.</summary>
    private static JsonObject Chain(int count)
    {
        var nodes = new JsonArray();
        for (var i = 1; i < count; i++)
        {
            nodes.Add(new JsonObject
            {
                ["node_key"] = $"n{i}",
                ["type"] = "say",
                ["is_initial"] = i == 1,
                ["position"] = new JsonObject { ["x"] = (i - 1) % 20 * 280, ["y"] = (i - 1) / 20 * 180 },
                ["config"] = new JsonObject { ["text"] = $"This is step {i} of the benchmark flow.", ["next_node_key"] = i + 1 < count ? $"n{i + 1}" : "goodbye" },
            });
        }
        nodes.Add(new JsonObject
        {
            ["node_key"] = "goodbye",
            ["type"] = "end",
            ["position"] = new JsonObject { ["x"] = (count - 1) % 20 * 280, ["y"] = (count - 1) / 20 * 180 },
            ["config"] = new JsonObject { ["text"] = "Goodbye" },
        });
        return new JsonObject { ["nodes"] = nodes };
    }
}
