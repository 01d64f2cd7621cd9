using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;
using VoiceStudio.Tests.Flows;

namespace VoiceStudio.Tests.App;

/// <summary>
/// Agents driven by a language model through the real server: the model is a local OpenAI-compatible server the
/// test starts (Chat Completions over SSE); the agent is created with the import API and talked to on the test
/// console's socket; what happened is read back from the stored events and the call's usage.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class LlmAgentTests(AppFixture fixture, LlmServer llm) : IClassFixture<LlmServer>
{
    [Fact]
    public async Task A_freeform_agent_on_a_local_model_answers_calls_a_tool_on_the_server_and_ends_the_call()
    {
        llm.Reset();
        var agent = await CreateFreeformAgentAsync();
        llm.Script(
            LlmServer.Text("Hello! This is the Riverside practice. ", "How can I help?"),
            LlmServer.Calls("Let me check Friday.", ("check_availability", """{"day":"friday"}""")),
            LlmServer.Calls("Friday is free, so you are booked. Goodbye!", ("end_call", """{"reason":"booked"}""")));

        await using var console = await ConsoleClient.ConnectAsync(fixture, "text", agent);
        await console.SendAsync("""{"event":"start"}""");
        var callId = Guid.Parse((await console.NextAsync("started")).GetProperty("call_id").GetString()!);
        await WaitForLineAsync(console, "agent: How can I help?");
        await console.SendAsync("""{"event":"text","text":"can I come in on friday"}""");
        var end = await console.NextAsync("end");
        Assert.Equal("agent ended the call", end.GetProperty("reason").GetString());
        Assert.Equal(
            ["agent: Hello!", "agent: This is the Riverside practice.", "agent: How can I help?", "caller: can I come in on friday", "agent: Let me check Friday.",
             "agent: Friday is free, so you are booked.", "agent: Goodbye!"],
            console.Lines);

        await using var db = fixture.Database.NewContext();
        var call = await ConsoleClient.WaitForEndAsync(db, callId);
        var events = await db.CallEvents.AsNoTracking().Where(e => e.CallId == callId).OrderBy(e => e.Id).ToListAsync();
        var types = events.Select(e => e.Type).ToList();
        Assert.Equal(3, types.Count(t => t == CallEventTypes.LlmResponse));
        var toolResult = JsonDocument.Parse(events.Single(e => e.Type == CallEventTypes.ToolResult).Data).RootElement;
        Assert.True(toolResult.GetProperty("ok").GetBoolean()); // the demo tool on the server really answered
        Assert.Contains("available", toolResult.GetProperty("result").GetString()!, StringComparison.Ordinal);
        using var usage = JsonDocument.Parse(call.Usage);
        Assert.Equal(3, usage.RootElement.GetProperty("llm_requests").GetInt32());
        Assert.True(usage.RootElement.GetProperty("llm_output_tokens").GetInt64() > 0);

        // The model saw the tool's answer before it spoke again, and the key from the agent's settings.
        var last = LlmServer.Lines(llm.Requests.Last());
        Assert.Contains(last, l => l.StartsWith("tool: ", StringComparison.Ordinal) && l.Contains("available", StringComparison.Ordinal));
        Assert.Equal("You are the receptionist of the Riverside practice. Today is " + DateTime.Now.DayOfWeek.ToString().ToLowerInvariant() + ".", last[0]["system: ".Length..]);
    }

    [Fact]
    public async Task A_model_outage_mid_call_is_spoken_as_the_fallback_line_and_recorded_as_an_llm_error()
    {
        llm.Reset();
        var agent = await CreateFreeformAgentAsync();
        llm.Script(LlmServer.Text("Hello, how can I help?"), LlmServer.Error(503), LlmServer.Text("I am back. What day would you like?"));
        await using var console = await ConsoleClient.ConnectAsync(fixture, "text", agent);
        await console.SendAsync("""{"event":"start"}""");
        var callId = Guid.Parse((await console.NextAsync("started")).GetProperty("call_id").GetString()!);
        await WaitForLineAsync(console, "agent: Hello, how can I help?");
        await console.SendAsync("""{"event":"text","text":"hello?"}""");
        await WaitForLineAsync(console, "agent: Could you say that again?");
        await console.SendAsync("""{"event":"text","text":"a booking please"}""");
        await WaitForLineAsync(console, "agent: What day would you like?");
        await console.SendAsync("""{"event":"stop"}""");
        await console.NextAsync("end");

        await using var db = fixture.Database.NewContext();
        await ConsoleClient.WaitForEndAsync(db, callId);
        var error = await db.CallEvents.AsNoTracking().SingleAsync(e => e.CallId == callId && e.Type == CallEventTypes.LlmError);
        using var data = JsonDocument.Parse(error.Data);
        Assert.Equal(("server_error", 503), (data.RootElement.GetProperty("kind").GetString(), data.RootElement.GetProperty("status").GetInt32()));
    }

    /// <summary>Creates a freeform agent (no nodes) on the local model through the import API, with the demo's availability tool.</summary>
    private async Task<string> CreateFreeformAgentAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.App.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.AdminTokenAsync());
        var export = JsonNode.Parse(await http.GetStringAsync("api/agents/demo/export"))!.AsObject();
        var name = $"llm-{Guid.NewGuid():N}"[..12];
        var agent = export["agent"]!.AsObject();
        agent["greeting"] = null;
        agent["system_prompt"] = "You are the receptionist of the {{practice}}. Today is {{day_of_week}}.";
        agent["llm_provider"] = "openai_compatible";
        agent["llm_model"] = "local-model";
        agent["provider_settings"] = new JsonObject { ["llm"] = new JsonObject { ["base_url"] = llm.V1.ToString(), ["api_key"] = LlmServer.ApiKey } };
        agent["tool_ids"] = new JsonArray(export["tools"]!.AsArray().Where(t => t!["name"]!.GetValue<string>() == "check_availability").Select(t => t!["id"]!.DeepClone()).ToArray());
        export["flow"] = new JsonArray();
        var response = await http.PostAsync($"api/agents/import?name={name}", new StringContent(export.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return name;
    }

    private static async Task WaitForLineAsync(ConsoleClient console, string ending)
    {
        while (!console.Lines.Any(l => l.EndsWith(ending, StringComparison.Ordinal)))
        {
            await console.NextAsync("transcript");
        }
    }
}
