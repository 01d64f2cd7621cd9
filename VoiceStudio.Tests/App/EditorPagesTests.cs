using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using VoiceStudio.Tests.Flows;
using static VoiceStudio.Tests.App.ApiClient;
using static VoiceStudio.Tests.App.Screenshots;

namespace VoiceStudio.Tests.App;

/// <summary>The agent and tool editors in Chromium: what a designer types is what gets stored, and bad input is named, not saved.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class EditorPagesTests(AppFixture fixture)
{
    [Fact]
    public async Task A_designer_creates_an_agent_with_variables_pipeline_and_webhook_settings()
    {
        await using var browser = await BrowserAsync();
        var page = await SignedInPageAsync(browser, fixture, "agents", "Agents");
        await page.GetByTestId("new-agent").ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("New agent");

        await Input(page, "agent-name").FillAsync("Front Desk");
        await page.GetByTestId("save-agent").ClickAsync();
        await Assertions.Expect(page.GetByTestId("agent-problem")).ToContainTextAsync("name use 1 to 64 lowercase letters");
        await using (var db = fixture.Database.NewContext())
        {
            Assert.False(await db.Agents.AnyAsync(a => a.Name == "Front Desk"));
        }

        var name = $"desk-{Guid.NewGuid():N}"[..11];
        await Input(page, "agent-name").FillAsync(name);
        await Input(page, "agent-greeting").FillAsync("Hello {{customer}}, this is the front desk.");
        await Input(page, "agent-prompt").FillAsync("You book rooms. Be brief.");
        await page.Locator(".mud-tab", new() { HasText = "Variables" }).ClickAsync();
        await page.GetByTestId("variables-add").ClickAsync();
        await Input(page, "variables-key-0").FillAsync("customer");
        await Input(page, "variables-value-0").FillAsync("friend");
        await page.Locator(".mud-tab", new() { HasText = "Listening and turns" }).ClickAsync();
        await Input(page, "idle-timeout").FillAsync("25");
        await page.Locator(".mud-tab", new() { HasText = "Webhook" }).ClickAsync();
        await Input(page, "webhook-url").FillAsync("http://127.0.0.1:9/hooks/desk");
        await page.GetByTestId("webhook-ended").ClickAsync();
        await page.GetByTestId("save-agent").ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync(name);
        await Assertions.Expect(page.GetByTestId("agent-kind")).ToHaveTextAsync("Freeform (one prompt)");
        await page.Locator(".mud-tab", new() { HasText = "Conversation" }).ClickAsync();
        await page.ScreenshotAsync(new() { Path = PathFor("agent-editor.png") });

        using var api = await AdminAsync(fixture);
        var stored = await ReadAsync(await api.GetAsync($"api/agents/{name}"), System.Net.HttpStatusCode.OK);
        Assert.Equal("Hello {{customer}}, this is the front desk.", stored["greeting"]!.GetValue<string>());
        Assert.Equal("You book rooms. Be brief.", stored["system_prompt"]!.GetValue<string>());
        Assert.Equal("friend", stored["context_variables"]!["customer"]!.GetValue<string>());
        Assert.Equal(25, stored["pipeline_settings"]!["user_idle_timeout_secs"]!.GetValue<double>());
        Assert.Equal(0.8, stored["pipeline_settings"]!["vad"]!["stop_secs"]!.GetValue<double>()); // untouched fields keep their values
        Assert.Equal("http://127.0.0.1:9/hooks/desk", stored["webhook_url"]!.GetValue<string>());
        Assert.Equal(["call_ended"], stored["webhook_events"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public async Task A_designer_builds_a_tool_without_writing_json_and_tests_it_against_a_server()
    {
        var server = new ToolServer();
        await server.InitializeAsync();
        try
        {
            await using var browser = await BrowserAsync();
            var page = await SignedInPageAsync(browser, fixture, "tools", "Tools");
            await page.GetByTestId("new-tool").ClickAsync();
            await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("New tool");

            var name = $"lookup_{Guid.NewGuid():N}"[..14];
            await Input(page, "tool-name").FillAsync(name);
            await Input(page, "tool-description").FillAsync("Finds the caller's account by phone number");
            await Input(page, "tool-url").FillAsync(new Uri(server.BaseUri, "lookup").ToString());
            await page.GetByTestId("add-parameter").ClickAsync();
            await Input(page, "parameter-name-0").FillAsync("number");
            await Input(page, "parameter-description-0").FillAsync("The caller's phone number");
            await page.GetByTestId("add-parameter").ClickAsync();
            await Input(page, "parameter-name-1").FillAsync("with plan");
            await Assertions.Expect(page.GetByTestId("parameter-problem")).ToContainTextAsync("parameter 2: name 'with plan' must start with a letter");
            await Input(page, "parameter-name-1").FillAsync("with_plan");
            await Assertions.Expect(page.GetByTestId("parameter-problem")).ToHaveCountAsync(0);
            await page.GetByTestId("parameter-type-1").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "yes/no" }).ClickAsync();
            await page.GetByTestId("parameter-required-1").ClickAsync(); // optional

            await Input(page, "argument-number").FillAsync("+15550001111");
            await Input(page, "argument-with_plan").FillAsync("yes");
            await page.GetByTestId("test-tool").ClickAsync();
            await Assertions.Expect(page.GetByTestId("test-status")).ToHaveTextAsync("200");
            await Assertions.Expect(page.GetByTestId("test-body")).ToContainTextAsync("\"echoed\": \"+15550001111\"");
            await Assertions.Expect(page.GetByTestId("test-latency")).ToContainTextAsync(" ms");
            var sent = JsonNode.Parse(server.Requests.Last(r => r.Path == "/lookup").Body)!;
            Assert.Equal("+15550001111", sent["number"]!.GetValue<string>());
            Assert.True(sent["with_plan"]!.GetValue<bool>());
            await page.ScreenshotAsync(new() { Path = PathFor("tool-editor.png") });

            await page.GetByTestId("save-tool").ClickAsync();
            await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync(name);
            await using (var db = fixture.Database.NewContext())
            {
                var tool = await db.Tools.AsNoTracking().SingleAsync(t => t.Name == name);
                var schema = JsonNode.Parse(tool.Parameters)!;
                Assert.Equal("string", schema["properties"]!["number"]!["type"]!.GetValue<string>());
                Assert.Equal("The caller's phone number", schema["properties"]!["number"]!["description"]!.GetValue<string>());
                Assert.Equal("boolean", schema["properties"]!["with_plan"]!["type"]!.GetValue<string>());
                Assert.Equal(["number"], schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
            }

            // a failing endpoint shows its status and body, in red
            await Input(page, "tool-url").FillAsync(new Uri(server.BaseUri, "fail").ToString());
            await page.GetByTestId("test-tool").ClickAsync();
            await Assertions.Expect(page.GetByTestId("test-status")).ToHaveTextAsync("409");
            await Assertions.Expect(page.GetByTestId("test-body")).ToContainTextAsync("no slots on that day");

            await page.GotoAsync(new Uri(fixture.App.BaseUri, "tools").ToString());
            await Assertions.Expect(page.GetByTestId("tools-table")).ToContainTextAsync(name);
            await page.ScreenshotAsync(new() { Path = PathFor("tools.png") });
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
