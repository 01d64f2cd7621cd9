using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>The agents and tools API on the real server: create, read, change, delete, stats, and running a tool.</summary>
[Collection(RunningAppGroup.Name)]
public sealed class AgentApiTests(AppFixture fixture, VoiceStudio.Tests.Flows.ToolServer receiver) : IClassFixture<VoiceStudio.Tests.Flows.ToolServer>
{

    private static List<string> Fields(JsonNode refused) => [.. refused["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>())];

    [Fact]
    public async Task An_agent_is_created_changed_with_its_secrets_masked_and_deleted()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var name = $"api-{Guid.NewGuid():N}"[..12];
        var created = await ReadAsync(await http.PostAsync("api/agents", Json($$$"""
            {"name": "{{{name}}}", "system_prompt": "You help callers of {{practice}}.", "greeting": "Hello!", "llm_provider": "openai", "llm_model": "gpt-4o-mini",
             "provider_settings": {"llm": {"api_key": "sk-very-secret-abcd"} } }
            """)), HttpStatusCode.Created);
        Assert.Equal("••••abcd", created["provider_settings"]!["llm"]!["api_key"]!.GetValue<string>());
        var listed = JsonNode.Parse(await http.GetStringAsync("api/agents"))!.AsArray().Single(a => a!["name"]!.GetValue<string>() == name)!;
        Assert.Equal((true, 0, 0), (listed["freeform"]!.GetValue<bool>(), listed["node_count"]!.GetValue<int>(), listed["call_count"]!.GetValue<int>()));

        // Sending the masked value back (as a form would) keeps the stored secret; the other fields change.
        var patched = await ReadAsync(await http.PatchAsync($"api/agents/{name}", Json("""
            {"greeting": "Hi there.", "llm_temperature": 0.2, "provider_settings": {"llm": {"api_key": "••••abcd", "base_url": "http://127.0.0.1:9/v1"}}}
            """)), HttpStatusCode.OK);
        Assert.Equal(("Hi there.", 0.2), (patched["greeting"]!.GetValue<string>(), patched["llm_temperature"]!.GetValue<double>()));
        await using (var db = fixture.Database.NewContext())
        {
            var stored = await db.Agents.AsNoTracking().SingleAsync(a => a.Name == name);
            Assert.Contains("sk-very-secret-abcd", stored.ProviderSettings, StringComparison.Ordinal);
            Assert.Contains("127.0.0.1:9", stored.ProviderSettings, StringComparison.Ordinal);
        }

        var refused = await ReadAsync(await http.PatchAsync($"api/agents/{name}", Json("""
            {"name": "Bad Name", "llm_temperature": 7, "tts_provider": "robot", "tool_ids": ["00000000-0000-0000-0000-000000000009"], "webhook_url": "ftp://x", "greeting": "{{ oops", "colour": "red"}
            """)), HttpStatusCode.BadRequest);
        Assert.Equal(["name", "llm_temperature", "tts_provider", "tool_ids[0]", "webhook_url", "greeting", "colour"], Fields(refused));
        await ReadAsync(await http.PostAsync("api/agents", Json($$"""{"name": "{{name}}"}""")), HttpStatusCode.BadRequest); // taken

        var stats = await ReadAsync(await http.GetAsync($"api/agents/{name}/stats"), HttpStatusCode.OK);
        Assert.Equal(0, stats["calls"]!.GetValue<int>());
        var demoStats = await ReadAsync(await http.GetAsync("api/agents/demo/stats"), HttpStatusCode.OK);
        Assert.NotNull(demoStats["test_calls"]);

        await ReadAsync(await http.DeleteAsync($"api/agents/{name}"), HttpStatusCode.NoContent);
        await ReadAsync(await http.GetAsync($"api/agents/{name}"), HttpStatusCode.NotFound);
        using var bare = new HttpClient { BaseAddress = fixture.App.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.PostAsync("api/agents", Json("{}"))).StatusCode);
    }

    [Fact]
    public async Task A_tool_is_created_tested_against_a_live_server_and_cannot_be_deleted_while_in_use()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var name = $"avail_{Guid.NewGuid():N}"[..14];
        var created = await ReadAsync(await http.PostAsync("api/tools", Json($$$"""
            {"name": "{{{name}}}", "description": "Free slots on a day", "webhook_url": "{{{fixture.App.BaseUri}}}demo/tools/check-availability",
             "parameters": {"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]}, "timeout_seconds": 5}
            """)), HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();

        var tested = await ReadAsync(await http.PostAsync($"api/tools/{id}/test", Json("""{"arguments": {"day": "monday"}}""")), HttpStatusCode.OK);
        Assert.Equal((true, 200), (tested["ok"]!.GetValue<bool>(), tested["status"]!.GetValue<int>()));
        Assert.NotNull(tested["body"]!["available"]);
        Assert.True(tested["latency_ms"]!.GetValue<double>() > 0);

        await ReadAsync(await http.PatchAsync($"api/tools/{id}", Json("""{"webhook_url": "http://127.0.0.1:9/nothing", "timeout_seconds": 1}""")), HttpStatusCode.OK);
        var failed = await ReadAsync(await http.PostAsync($"api/tools/{id}/test", null), HttpStatusCode.OK);
        Assert.False(failed["ok"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(failed["error"]!.GetValue<string>()));

        var refused = await ReadAsync(await http.PostAsync("api/tools", Json("""{"name": "Check It", "webhook_url": "nope", "method": "PUT", "parameters": [], "timeout_seconds": 900}""")), HttpStatusCode.BadRequest);
        Assert.Equal(["name", "webhook_url", "method", "parameters", "timeout_seconds"], Fields(refused));

        var demoTool = JsonNode.Parse(await http.GetStringAsync("api/tools"))!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "check_availability")!;
        var inUse = await ReadAsync(await http.DeleteAsync($"api/tools/{demoTool["id"]}"), HttpStatusCode.Conflict);
        Assert.Contains("demo", inUse["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await ReadAsync(await http.DeleteAsync($"api/tools/{id}"), HttpStatusCode.NoContent);
        await ReadAsync(await http.GetAsync($"api/tools/{id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_agent_webhook_gets_call_started_and_call_ended_without_holding_the_call()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var export = JsonNode.Parse(await http.GetStringAsync("api/agents/demo/export"))!;
        var name = $"hook-{Guid.NewGuid():N}"[..12];
        await ReadAsync(await http.PostAsync($"api/agents/import?name={name}", Json(export.ToJsonString())), HttpStatusCode.Created);
        // The receiver answers 404: a failing webhook is logged and changes nothing for the call.
        await ReadAsync(await http.PatchAsync($"api/agents/{name}", Json($$"""{"webhook_url": "{{receiver.BaseUri}}hooks/{{name}}", "webhook_events": ["call_started", "call_ended"]}""")), HttpStatusCode.OK);

        await using var console = await ConsoleClient.ConnectAsync(fixture, "text", name);
        await console.SendAsync("""{"event":"start"}""");
        var callId = (await console.NextAsync("started")).GetProperty("call_id").GetString()!;
        await console.NodeAsync("main_menu");
        await console.SendAsync("""{"event":"text","text":"opening hours"}""");
        Assert.Equal("agent ended the call", (await console.NextAsync("end")).GetProperty("reason").GetString());

        var until = DateTime.UtcNow.AddSeconds(15);
        List<JsonNode> hooks;
        while ((hooks = [.. receiver.Requests.Where(r => r.Path == $"/hooks/{name}").Select(r => JsonNode.Parse(r.Body)!)]).Count < 2 && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
        }
        Assert.Equal(["call_started", "call_ended"], hooks.Select(h => h["event"]!.GetValue<string>()));
        Assert.All(hooks, h => Assert.Equal((callId, name, "browser"), (h["call_id"]!.GetValue<string>(), h["agent"]!.GetValue<string>(), h["provider"]!.GetValue<string>())));
        var ended = hooks[1];
        Assert.Equal("completed", ended["status"]!.GetValue<string>());
        Assert.Contains("opening hours", ended["transcript"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.NotNull(ended["ended_at"]);
    }
}
