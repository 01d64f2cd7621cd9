using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

using static VoiceStudio.Tests.App.ApiClient;

namespace VoiceStudio.Tests.App;

/// <summary>
/// The flow API on the real server: export and import of the demo agent, validation errors per node and field,
/// versions on every save, restore, and a test call that runs (and records) the version it was given.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class FlowApiTests(AppFixture fixture)
{

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }

    private static string Name(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task An_exported_agent_imports_under_a_new_name_with_its_flow_and_reuses_tools_by_name()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var export = await ReadAsync(await http.GetAsync("api/agents/demo/export"), HttpStatusCode.OK);
        Assert.Equal("voicestudio.agent", export["format"]!.GetValue<string>());
        Assert.Equal(["book_appointment", "check_availability"], export["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal(9, export["flow"]!.AsArray().Count);

        var copy = Name("copy");
        var imported = await ReadAsync(await http.PostAsync($"api/agents/import?name={copy}", Json(export)), HttpStatusCode.Created);
        Assert.Equal((copy, 9, 0, 2), (imported["name"]!.GetValue<string>(), imported["nodes"]!.GetValue<int>(),
            imported["tools_created"]!.GetValue<int>(), imported["tools_reused"]!.GetValue<int>()));
        var flow = await ReadAsync(await http.GetAsync($"api/agents/{copy}/flow"), HttpStatusCode.OK);
        Assert.Equal(1, flow["version"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(export["flow"], flow["nodes"]), "the imported flow differs from the exported one");

        // The same name again is a conflict; a document with new tool names creates those tools and points the flow at them.
        var again = await ReadAsync(await http.PostAsync("api/agents/import", Json(export)), HttpStatusCode.Conflict);
        Assert.Contains("an agent named 'demo' exists", again["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var renamed = (JsonObject)export.DeepClone();
        foreach (var tool in renamed["tools"]!.AsArray())
        {
            tool!["name"] = tool["name"]!.GetValue<string>() + "_" + copy[5..];
        }
        var third = Name("third");
        var created = await ReadAsync(await http.PostAsync($"api/agents/import?name={third}", Json(renamed)), HttpStatusCode.Created);
        Assert.Equal(2, created["tools_created"]!.GetValue<int>());
        var thirdFlow = await ReadAsync(await http.GetAsync($"api/agents/{third}/flow"), HttpStatusCode.OK);
        var toolId = Guid.Parse(thirdFlow["nodes"]!.AsArray().Single(n => n!["node_key"]!.GetValue<string>() == "book")!["config"]!["tool_id"]!.GetValue<string>());
        await using var db = fixture.Database.NewContext();
        Assert.Equal("book_appointment_" + copy[5..], (await db.Tools.SingleAsync(t => t.Id == toolId)).Name);
    }

    [Fact]
    public async Task Bad_documents_are_refused_with_the_field_that_is_wrong()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        using var bare = new HttpClient { BaseAddress = fixture.App.BaseUri };
        Assert.Equal(HttpStatusCode.Unauthorized, (await bare.GetAsync("api/agents/demo/flow")).StatusCode);
        var notJson = await ReadAsync(await http.PutAsync("api/agents/demo/flow", new StringContent("{nodes: [", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.StartsWith("the body is not valid JSON", notJson["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var noNodes = await ReadAsync(await http.PutAsync("api/agents/demo/flow", Json(new JsonObject())), HttpStatusCode.BadRequest);
        Assert.Contains("\"nodes\"", noNodes["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await ReadAsync(await http.GetAsync("api/agents/nobody-here/flow"), HttpStatusCode.NotFound);
        await ReadAsync(await http.GetAsync("api/agents/demo/flow/versions/999"), HttpStatusCode.NotFound);

        var import = await ReadAsync(await http.PostAsync("api/agents/import", Json(new JsonObject { ["format"] = "something-else" })), HttpStatusCode.BadRequest);
        Assert.Equal("format", import["errors"]![0]!["field"]!.GetValue<string>());
        var badName = await ReadAsync(await http.PostAsync("api/agents/import?name=Not%20A%20Name",
            Json(new JsonObject { ["format"] = "voicestudio.agent", ["format_version"] = 1, ["agent"] = new JsonObject() })), HttpStatusCode.BadRequest);
        Assert.Contains(badName["errors"]!.AsArray(), e => e!["field"]!.GetValue<string>() == "name");
    }

    [Fact]
    public async Task An_invalid_flow_is_refused_with_one_entry_per_node_and_field_and_nothing_is_saved()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var agent = await ImportDemoCopyAsync(http);
        var nodes = JsonNode.Parse("""
            [
              {"node_key": "start", "type": "ask", "is_initial": true, "config": {"prompt": "Hello {{ name", "intents": [{"name": "yes", "phrases": ["yes"], "next_node_key": "nowhere"}]}},
              {"node_key": "second", "type": "say", "is_initial": true, "config": {"text": "Hi", "next_node_key": "start"}},
              {"node_key": "lonely", "type": "tool", "config": {"tool_id": "00000000-0000-0000-0000-000000000001", "on_success_node_key": "start"}},
              {"node_key": "odd", "type": "dance"},
              {"node_key": "bad key!", "type": "end", "builtin_tools": ["fly"]}
            ]
            """)!;
        var refused = await ReadAsync(await http.PutAsync($"api/agents/{agent}/flow", Json(new JsonObject { ["nodes"] = nodes.DeepClone() })), HttpStatusCode.BadRequest);
        var errors = refused["errors"]!.AsArray().Select(e => $"{e!["node"]?.GetValue<string>()}|{e["field"]!.GetValue<string>()}").ToList();
        Assert.Contains("odd|type", errors);
        Assert.Contains("bad key!|node_key", errors);
        Assert.Contains("bad key!|builtin_tools[0]", errors);

        // With the shape right, the flow's own checks speak.
        nodes.AsArray().RemoveAt(4);
        nodes.AsArray().RemoveAt(3);
        refused = await ReadAsync(await http.PutAsync($"api/agents/{agent}/flow", Json(new JsonObject { ["nodes"] = nodes.DeepClone() })), HttpStatusCode.BadRequest);
        errors = [.. refused["errors"]!.AsArray().Select(e => $"{e!["node"]?.GetValue<string>()}|{e["field"]!.GetValue<string>()}")];
        Assert.Contains("|is_initial", errors);
        Assert.Contains("start|config.intents[0].next_node_key", errors);
        Assert.Contains("start|config.prompt", errors);
        Assert.Contains("lonely|config.tool_id", errors);
        Assert.Contains("|nodes", errors); // no terminal node reachable

        var flow = await ReadAsync(await http.GetAsync($"api/agents/{agent}/flow"), HttpStatusCode.OK);
        Assert.Equal((1, 9), (flow["version"]!.GetValue<int>(), flow["nodes"]!.AsArray().Count));
    }

    [Fact]
    public async Task Every_save_is_a_version_an_old_one_can_be_restored_and_a_call_runs_and_records_its_version()
    {
        using var http = await ApiClient.AdminAsync(fixture);
        var agent = await ImportDemoCopyAsync(http);
        var flow = await ReadAsync(await http.GetAsync($"api/agents/{agent}/flow"), HttpStatusCode.OK);
        var nodes = flow["nodes"]!.AsArray();
        var hours = nodes.Single(n => n!["node_key"]!.GetValue<string>() == "opening_hours")!;
        hours["config"]!["text"] = "We are open every day from seven until late.";
        var saved = await ReadAsync(await http.PutAsync($"api/agents/{agent}/flow", Json(new JsonObject { ["nodes"] = nodes.DeepClone(), ["note"] = "longer hours" })), HttpStatusCode.OK);
        Assert.Equal(2, saved["version"]!.GetValue<int>());

        Assert.Contains("open every day", await ChatAsync(agent, "opening hours", (Guid)saved["version_id"]!.AsValue()), StringComparison.Ordinal);

        var versions = JsonNode.Parse(await http.GetStringAsync($"api/agents/{agent}/flow/versions"))!.AsArray();
        Assert.Equal([2, 1], versions.Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal(("longer hours", "admin", true, 1), (versions[0]!["note"]!.GetValue<string>(), versions[0]!["created_by"]!.GetValue<string>(),
            versions[0]!["current"]!.GetValue<bool>(), versions[0]!["call_count"]!.GetValue<int>()));
        var first = await ReadAsync(await http.GetAsync($"api/agents/{agent}/flow/versions/1"), HttpStatusCode.OK);
        Assert.Contains("Monday to Friday", first["nodes"]!.ToJsonString(), StringComparison.Ordinal);

        var restored = await ReadAsync(await http.PostAsync($"api/agents/{agent}/flow/versions/1/restore", null), HttpStatusCode.OK);
        Assert.Equal(3, restored["version"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(first["nodes"], restored["nodes"]));
        Assert.Contains("Monday to Friday", await ChatAsync(agent, "opening hours", (Guid)restored["version_id"]!.AsValue()), StringComparison.Ordinal);
        versions = JsonNode.Parse(await http.GetStringAsync($"api/agents/{agent}/flow/versions"))!.AsArray();
        Assert.Equal("restored from version 1", versions[0]!["note"]!.GetValue<string>());
    }

    /// <summary>A copy of the demo agent to change without disturbing other tests.</summary>
    private static async Task<string> ImportDemoCopyAsync(HttpClient http)
    {
        var export = JsonNode.Parse(await http.GetStringAsync("api/agents/demo/export"))!;
        var name = Name("flow");
        await ReadAsync(await http.PostAsync($"api/agents/import?name={name}", Json(export)), HttpStatusCode.Created);
        return name;
    }

    /// <summary>A typed test call that says one thing; what the agent said, once the call has ended with the expected version.</summary>
    private async Task<string> ChatAsync(string agent, string text, Guid version)
    {
        await using var console = await ConsoleClient.ConnectAsync(fixture, "text", agent);
        await console.SendAsync("""{"event":"start"}""");
        var callId = Guid.Parse((await console.NextAsync("started")).GetProperty("call_id").GetString()!);
        await console.NodeAsync("main_menu");
        await console.SendAsync($$"""{"event":"text","text":"{{text}}"}""");
        await console.NextAsync("end");
        await using var db = fixture.Database.NewContext();
        var call = await ConsoleClient.WaitForEndAsync(db, callId);
        Assert.Equal(version, call.FlowVersionId);
        return string.Join(" | ", console.Lines);
    }
}
