using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using static VoiceStudio.Tests.App.ApiClient;
using static VoiceStudio.Tests.App.Screenshots;

namespace VoiceStudio.Tests.App;

/// <summary>The flow designer in Chromium: build by dragging and connecting, publish, test by chat and by voice, undo, import and export.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class DesignerPageTests(AppFixture fixture)
{
    private async Task<string> NewAgentAsync(string stem)
    {
        var name = $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 7)];
        using var api = await AdminAsync(fixture);
        await ReadAsync(await api.PostAsync("api/agents", Json(new JsonObject { ["name"] = name })), HttpStatusCode.Created);
        return name;
    }

    private static async Task DropAsync(IPage page, string type, int x, int y) =>
        await page.DragAndDropAsync($"[data-testid=palette-{type}]", "[data-testid=canvas]", new() { TargetPosition = new() { X = x, Y = y } });

    /// <summary>Drags from a node's output port to another node's input handle, as a designer does with the mouse.</summary>
    private static async Task ConnectAsync(IPage page, string source, string port, string target)
    {
        var edges = await page.Locator(".react-flow__edge").CountAsync();
        var from = (await page.Locator($"[data-testid=port-{source}-{port}] .react-flow__handle").BoundingBoxAsync())!;
        var to = (await page.Locator($"[data-testid=node-{target}] .vs-in").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(from.X + from.Width / 2, from.Y + from.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(to.X + 30, to.Y + to.Height / 2, new() { Steps = 10 });
        await page.Mouse.MoveAsync(to.X + to.Width / 2, to.Y + to.Height / 2, new() { Steps = 5 });
        await page.Mouse.UpAsync();
        await Assertions.Expect(page.Locator(".react-flow__edge")).ToHaveCountAsync(edges + 1);
    }

    /// <summary>Runs an action that loads nodes and waits until the canvas has fitted them into view.</summary>
    private static async Task AndFitAsync(IPage page, Func<Task> action)
    {
        var before = await page.GetByTestId("canvas").GetAttributeAsync("data-fitted") ?? "0";
        await action();
        await page.WaitForFunctionAsync($"() => (document.querySelector('[data-testid=canvas]').dataset.fitted || '0') !== '{before}'");
    }

    [Fact]
    public async Task A_designer_builds_a_flow_by_dragging_publishes_it_and_chats_to_the_end()
    {
        var name = await NewAgentAsync("built");
        await using var browser = await BrowserAsync();
        var page = await SignedInPageAsync(browser, fixture, $"agents/{name}/flow", $"{name} · flow", 1600, 900);

        await DropAsync(page, "say", 60, 100);
        await Assertions.Expect(page.GetByTestId("node-say_1")).ToBeVisibleAsync();
        await Input(page, "say-text-input").FillAsync("Welcome to the test desk.");
        await DropAsync(page, "ask", 300, 100);
        await Assertions.Expect(page.GetByTestId("node-ask_1")).ToBeVisibleAsync();
        await Input(page, "ask-prompt-input").FillAsync("Shall we finish now?");
        await DropAsync(page, "end", 540, 140);
        await Assertions.Expect(page.GetByTestId("node-end_1")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("marker-say_1")).ToBeVisibleAsync(); // its output goes nowhere yet

        await ConnectAsync(page, "say_1", "next", "ask_1");
        await ConnectAsync(page, "ask_1", "intent-0", "end_1");
        await ConnectAsync(page, "ask_1", "fallback", "end_1");
        await Assertions.Expect(page.Locator(".react-flow__edge")).ToHaveCountAsync(3);
        await Assertions.Expect(page.GetByTestId("marker-say_1")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("save-status")).ToContainTextAsync("Draft saved");

        await page.GetByTestId("publish").ClickAsync();
        await Assertions.Expect(page.GetByTestId("save-status")).ToHaveTextAsync("Published v1");
        await using (var db = fixture.Database.NewContext())
        {
            var agent = await db.Agents.AsNoTracking().SingleAsync(a => a.Name == name);
            Assert.Equal(["say_1", "ask_1", "end_1"], await db.FlowNodes.Where(n => n.AgentId == agent.Id).OrderBy(n => n.CreatedAt).Select(n => n.NodeKey).ToListAsync());
            Assert.False(await db.FlowDrafts.AnyAsync(d => d.AgentId == agent.Id)); // the draft became version 1
        }

        await page.Locator(".mud-tab", new() { HasText = "Test" }).ClickAsync();
        await page.GetByTestId("console-start").ClickAsync();
        await Assertions.Expect(page.GetByTestId("console-transcript")).ToContainTextAsync("Shall we finish now?");
        await Assertions.Expect(page.Locator("[data-testid=node-ask_1].vs-active")).ToBeVisibleAsync();
        await Input(page, "console-input").FillAsync("yes");
        await page.ScreenshotAsync(new() { Path = PathFor("flow-designer.png") }); // a test in progress: the question is the active node
        await page.GetByTestId("console-send").ClickAsync();
        await Assertions.Expect(page.GetByTestId("console-transcript")).ToContainTextAsync("Goodbye");
        await Assertions.Expect(page.Locator("[data-testid=node-end_1].vs-active")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=node-say_1].vs-visited")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".react-flow__edge.vs-edge-taken")).ToHaveCountAsync(2); // say → ask → end, not the fallback
        await using (var db = fixture.Database.NewContext())
        {
            Assert.True(await db.Calls.AnyAsync(c => c.AgentName == name && c.IsTest));
        }
    }

    [Fact]
    public async Task Undo_redo_copy_paste_export_and_import_round_trip_and_a_dangling_edge_is_marked()
    {
        var name = await NewAgentAsync("edits");
        await using var browser = await BrowserAsync();
        var page = await SignedInPageAsync(browser, fixture, $"agents/{name}/flow", $"{name} · flow", 1600, 900);

        await page.GetByTestId("templates").ClickAsync();
        await AndFitAsync(page, () => page.GetByTestId("template-support-triage").ClickAsync());
        await Assertions.Expect(page.Locator(".react-flow__node")).ToHaveCountAsync(6);
        await Assertions.Expect(page.Locator("[data-testid^=marker-]")).ToHaveCountAsync(0);

        // delete with the keyboard, then undo and redo
        await page.GetByTestId("node-goodbye").ClickAsync();
        await page.Keyboard.PressAsync("Delete");
        await Assertions.Expect(page.GetByTestId("node-goodbye")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("marker-anything_else")).ToBeVisibleAsync(); // its "no" answer now goes nowhere
        await page.Keyboard.PressAsync("Control+z");
        await Assertions.Expect(page.GetByTestId("node-goodbye")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("marker-anything_else")).ToHaveCountAsync(0);
        await page.Keyboard.PressAsync("Control+y");
        await Assertions.Expect(page.GetByTestId("node-goodbye")).ToHaveCountAsync(0);
        await page.GetByTestId("undo").ClickAsync();
        await Assertions.Expect(page.GetByTestId("node-goodbye")).ToBeVisibleAsync();

        // copy and paste a node
        await page.GetByTestId("node-billing").ClickAsync();
        await page.Keyboard.PressAsync("Control+c");
        await page.Keyboard.PressAsync("Control+v");
        await Assertions.Expect(page.GetByTestId("node-billing_copy")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Control+z");
        await Assertions.Expect(page.GetByTestId("node-billing_copy")).ToHaveCountAsync(0);

        // export, then import into another agent and publish: the same flow
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-flow").ClickAsync());
        var exported = Path.Combine(Path.GetTempPath(), $"{name}.flow.json");
        await download.SaveAsAsync(exported);
        var document = JsonNode.Parse(await File.ReadAllTextAsync(exported))!;
        Assert.Equal(6, document["nodes"]!.AsArray().Count);

        var other = await NewAgentAsync("imported");
        await page.GotoAsync(new Uri(fixture.App.BaseUri, $"agents/{other}/flow").ToString());
        await Assertions.Expect(page.GetByTestId("interactive")).ToHaveTextAsync("yes");
        await AndFitAsync(page, () => page.Locator("input[type=file]").First.SetInputFilesAsync(exported));
        await Assertions.Expect(page.Locator(".react-flow__node")).ToHaveCountAsync(6);
        await page.GetByTestId("publish").ClickAsync();
        await Assertions.Expect(page.GetByTestId("save-status")).ToHaveTextAsync("Published v1");
        using (var api = await AdminAsync(fixture))
        {
            var flow = await ReadAsync(await api.GetAsync($"api/agents/{other}/flow"), HttpStatusCode.OK);
            Assert.True(JsonNode.DeepEquals(document["nodes"], flow["nodes"]), flow["nodes"]!.ToJsonString());
        }

        // a file whose edge points at a node that is not there: imported, marked, and not publishable
        document["nodes"]![0]!["config"]!["fallback_node_key"] = "nowhere";
        var broken = Path.Combine(Path.GetTempPath(), $"{name}.broken.flow.json");
        await File.WriteAllTextAsync(broken, document.ToJsonString());
        await AndFitAsync(page, () => page.Locator("input[type=file]").First.SetInputFilesAsync(broken));
        await Assertions.Expect(page.GetByTestId("marker-menu")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=port-menu-fallback].vs-port-bad")).ToHaveAttributeAsync("title", "goes to 'nowhere', which is not a node of this flow");
        await page.GetByTestId("node-menu").ClickAsync();
        await Assertions.Expect(page.GetByTestId("inspector-problem").First).ToContainTextAsync("config.fallback_node_key: goes to 'nowhere'");
        await page.GetByTestId("publish").ClickAsync();
        await Assertions.Expect(page.GetByText("Not published: 1 problem(s)")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = PathFor("flow-designer-problems.png") });
        File.Delete(exported);
        File.Delete(broken);
    }

    [Fact]
    public async Task Talking_through_the_microphone_moves_the_flow_and_shows_the_transcript()
    {
        var name = await NewAgentAsync("talk");
        using (var api = await AdminAsync(fixture))
        {
            await ReadAsync(await api.PutAsync($"api/agents/{name}/flow", Json("""
                {"nodes": [
                  {"node_key": "question", "type": "ask", "is_initial": true,
                   "config": {"prompt": "Say yes to finish.", "intents": [{"name": "yes", "phrases": ["yes"], "next_node_key": "done"}],
                              "no_match": {"reprompt": "Please say yes.", "max": 5}, "no_input": {"reprompt": "Say yes.", "max": 5}, "fallback_node_key": "done"}},
                  {"node_key": "done", "type": "end", "config": {"text": "You said yes. Goodbye!"}}]}
                """)), HttpStatusCode.OK);
        }
        // The fake microphone plays this file in a loop: a pause, "yes", a longer pause.
        var wav = Path.Combine(Path.GetTempPath(), $"{name}.wav");
        using (var yes = VoiceStudio.Media.Speech.Flite.FliteSynthesizer.Shared.Synthesize("yes"))
        {
            var rate = yes.SampleRate;
            var samples = new short[rate * 1 + yes.Samples.Length + rate * 3];
            yes.Samples.CopyTo(samples.AsSpan(rate));
            var bytes = new byte[VoiceStudio.Media.Recording.WavFile.HeaderBytes + samples.Length * 2];
            VoiceStudio.Media.Recording.WavFile.WriteHeader(bytes, rate, 1, samples.Length * 2);
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()).CopyTo(bytes.AsSpan(VoiceStudio.Media.Recording.WavFile.HeaderBytes));
            await File.WriteAllBytesAsync(wav, bytes);
        }
        try
        {
            await using var browser = await BrowserAsync("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                $"--use-file-for-fake-audio-capture={wav}", "--autoplay-policy=no-user-gesture-required");
            var page = await SignedInPageAsync(browser, fixture, $"agents/{name}/flow", $"{name} · flow", 1600, 900);
            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            page.Console += (_, m) => log.Enqueue($"{m.Type}: {m.Text}");
            page.PageError += (_, e) => log.Enqueue($"error: {e}");
            try
            {
                await page.Locator(".mud-tab", new() { HasText = "Test" }).ClickAsync();
                await page.GetByTestId("console-mode").GetByText("Talk").ClickAsync();
                await page.GetByTestId("console-start").ClickAsync();
                await Assertions.Expect(page.GetByTestId("console-transcript")).ToContainTextAsync("Say yes to finish.", new() { Timeout = 20000 });
                await Assertions.Expect(page.Locator("[data-testid=console-line]", new() { HasText = "caller" })).ToContainTextAsync("yes", new() { Timeout = 30000 });
                await Assertions.Expect(page.Locator("[data-testid=node-done].vs-active")).ToBeVisibleAsync(new() { Timeout = 15000 });
                await Assertions.Expect(page.GetByTestId("console-events")).ToContainTextAsync("intent yes");
            }
            catch (Exception e)
            {
                await page.ScreenshotAsync(new() { Path = "/tmp/talk.png" });
                throw new InvalidOperationException(string.Join("\n", log), e);
            }
        }
        finally
        {
            File.Delete(wav);
        }
    }

    [Fact]
    public async Task Two_designers_on_one_agent_get_a_conflict_message_instead_of_overwriting()
    {
        var name = await NewAgentAsync("shared");
        await using var browser = await BrowserAsync();
        var ada = await SignedInPageAsync(browser, fixture, $"agents/{name}/flow", $"{name} · flow", 1600, 900);
        var grace = await SignedInPageAsync(browser, fixture, $"agents/{name}/flow", $"{name} · flow", 1600, 900);

        await DropAsync(ada, "say", 60, 100);
        await Assertions.Expect(ada.GetByTestId("save-status")).ToContainTextAsync("Draft saved");
        await DropAsync(grace, "end", 300, 100); // Grace opened the flow before Ada's save
        await Assertions.Expect(grace.GetByTestId("conflict")).ToContainTextAsync("changed this flow at");
        await Assertions.Expect(grace.GetByTestId("save-status")).ToHaveTextAsync("Not saved: edit conflict");
        await using (var db = fixture.Database.NewContext())
        {
            var agent = await db.Agents.AsNoTracking().SingleAsync(a => a.Name == name);
            var draft = await db.FlowDrafts.AsNoTracking().SingleAsync(d => d.AgentId == agent.Id);
            Assert.Contains("say_1", draft.Document, StringComparison.Ordinal);
            Assert.DoesNotContain("end_1", draft.Document, StringComparison.Ordinal); // Ada's work was not overwritten
        }
        await grace.GetByTestId("conflict-reload").ClickAsync();
        await Assertions.Expect(grace.GetByTestId("node-say_1")).ToBeVisibleAsync();
        await Assertions.Expect(grace.GetByTestId("conflict")).ToHaveCountAsync(0);
    }
}
