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

    /// <summary>Drags from a node's output port to another node's input, as a designer does with the mouse.</summary>
    private static async Task ConnectAsync(IPage page, string source, string port, string target)
    {
        var from = (await page.Locator($"[data-testid=port-{source}-{port}] .react-flow__handle").BoundingBoxAsync())!;
        var to = (await page.Locator($"[data-testid=node-{target}]").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(from.X + from.Width / 2, from.Y + from.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(to.X + 20, to.Y + to.Height / 2, new() { Steps = 8 });
        await page.Mouse.MoveAsync(to.X + 8, to.Y + to.Height / 2, new() { Steps = 4 });
        await page.Mouse.UpAsync();
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
        await page.GetByTestId("console-send").ClickAsync();
        await Assertions.Expect(page.GetByTestId("console-transcript")).ToContainTextAsync("Goodbye");
        await Assertions.Expect(page.Locator("[data-testid=node-end_1].vs-active")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=node-say_1].vs-visited")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".react-flow__edge.vs-edge-taken")).ToHaveCountAsync(2); // say → ask → end, not the fallback
        await page.ScreenshotAsync(new() { Path = PathFor("flow-designer.png") });
        await using (var db = fixture.Database.NewContext())
        {
            Assert.True(await db.Calls.AnyAsync(c => c.AgentName == name && c.IsTest));
        }
    }
}
