using System.Text.Json.Nodes;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Flows;
using VoiceStudio.Media.Llm;

using static VoiceStudio.Tests.Flows.Outputs;

namespace VoiceStudio.Tests.Flows;

/// <summary>
/// Conversation nodes and freeform agents against a local OpenAI-compatible server speaking the Chat Completions
/// wire format (SSE streaming, tool calls in pieces), through the real OpenAI client; HTTP tools on a real local server.
/// </summary>
public sealed class LlmConversationTests : IClassFixture<LlmServer>, IClassFixture<ToolServer>, IDisposable
{
    private static readonly Guid Lookup = Guid.NewGuid();

    private readonly LlmServer _llm;
    private readonly ToolServer _tools;
    private readonly HttpClient _http = new(HttpToolInvoker.CreateHandler(allowLinkLocal: false)) { Timeout = Timeout.InfiniteTimeSpan };

    public LlmConversationTests(LlmServer llm, ToolServer tools)
    {
        _llm = llm;
        _tools = tools;
        _llm.Reset();
    }

    public void Dispose() => _http.Dispose();

    private LlmSettings Settings(string? key = null, Uri? url = null) => new()
    {
        BaseUrl = url ?? _llm.V1,
        ApiKey = key ?? LlmServer.ApiKey,
        Model = "local-model",
        FirstTokenTimeout = TimeSpan.FromSeconds(2),
        ReplyTimeout = TimeSpan.FromSeconds(10),
    };

    private static StoredNode Node(string key, string type, string config = "{}", bool initial = false, bool terminal = false, bool global = false,
        string role = "[]", string task = "[]", string functions = "[]", Guid[]? tools = null, string[]? builtins = null) => new()
        {
            Key = key,
            Type = type,
            Config = config,
            IsInitial = initial,
            IsTerminal = terminal,
            IsGlobal = global,
            RoleMessages = role,
            TaskMessages = task,
            Functions = functions,
            ToolIds = tools ?? [],
            BuiltinTools = builtins ?? [],
        };

    private FlowConversation Conversation(IEnumerable<StoredNode>? nodes, string? greeting = null, LlmSettings? settings = null)
    {
        var agent = new AgentDefinition
        {
            Name = "llm-test",
            Greeting = greeting,
            SystemPrompt = "You are the receptionist of the {{practice}}.",
            Variables = new Dictionary<string, string> { ["practice"] = "Riverside practice" },
            Tools = new Dictionary<Guid, ToolDefinition>
            {
                [Lookup] = new()
                {
                    Id = Lookup,
                    Name = "lookup",
                    Description = "Looks up a caller by number",
                    Parameters = """{"type":"object","properties":{"number":{"type":"string"}},"required":["number"]}""",
                    Url = new Uri(_tools.BaseUri, "/lookup"),
                },
            },
            ToolIds = [Lookup],
            Flow = nodes is null ? null : FlowJson.Parse(nodes),
            Llm = settings ?? Settings(),
        };
        var conversation = new FlowConversation(agent, new HttpToolInvoker(_http));
        conversation.Bind(new CallContext { CallId = "call-llm", Provider = "twilio", From = "+15550001111", To = "+15550002222" });
        return conversation;
    }

    private static List<string> Said(List<ConversationOutput> outputs) => [.. outputs.OfType<Say>().Select(s => s.Text)];


    [Fact]
    public async Task A_freeform_agent_streams_its_reply_sentence_by_sentence_and_keeps_the_conversation()
    {
        _llm.Script(
            LlmServer.Text("Hello, thank", " you for calling. How can", " I help you to", "day?"),
            LlmServer.Text("Tuesday at 3.30 works. ", "Anything else?"));
        var conversation = Conversation(null);
        var start = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal(["Hello, thank you for calling.", "How can I help you today?"], Said(start));
        var response = Assert.Single(Traces(start, "llm_response"));
        Assert.Equal("local-model", response.Data["model"]);
        Assert.True((long)response.Data["output_tokens"]! > 0 && (long)response.Data["input_tokens"]! > 0);
        Assert.NotNull(response.Data["first_token_ms"]);

        var reply = await Run(conversation.UserSpokeAsync("can I come on tuesday", CancellationToken.None));
        Assert.Equal(["Tuesday at 3.30 works.", "Anything else?"], Said(reply)); // "3.30" is not a sentence end
        var requests = _llm.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1]["stream"]!.GetValue<bool>());
        Assert.Equal("local-model", requests[1]["model"]!.GetValue<string>());
        Assert.Equal(
            ["system: You are the receptionist of the Riverside practice.", "assistant: Hello, thank you for calling. How can I help you today?", "user: can I come on tuesday"],
            LlmServer.Lines(requests[1]));
        Assert.Equal(["lookup", "end_call"], LlmServer.ToolNames(requests[1]));
    }

    [Fact]
    public async Task A_transition_function_moves_the_flow_and_its_arguments_become_variables()
    {
        var nodes = new[]
        {
            Node("collect", "conversation", initial: true,
                role: """[{"role":"system","content":"Collect the day the caller wants."}]""",
                task: """[{"role":"system","content":"Ask which day suits the caller."}]""",
                functions: """[{"name":"day_chosen","description":"The caller chose a day","parameters":{"type":"object","properties":{"day":{"type":"string"}},"required":["day"]},"next_node_key":"confirm"}]"""),
            Node("confirm", "say", """{"text":"Lovely, see you on {{day}}.","next_node_key":"bye"}"""),
            Node("bye", "end", """{"text":"Goodbye!"}"""),
        };
        _llm.Script(LlmServer.Text("Which day suits you?"), LlmServer.Calls("Great.", ("day_chosen", """{"day":"friday"}""")));
        var conversation = Conversation(nodes, greeting: "Hi.");
        var start = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal(["Hi.", "Which day suits you?"], Said(start));
        Assert.Equal("collect", conversation.CurrentNode);
        Assert.Null(conversation.ExpectedPhrases); // the model listens for anything

        var moved = await Run(conversation.UserSpokeAsync("friday please", CancellationToken.None));
        Assert.Equal(["Great.", "Lovely, see you on friday.", "Goodbye!"], Said(moved));
        Assert.Equal("friday", conversation.Variables["day"]);
        Assert.Equal("function day_chosen", Traces(moved, "node_transition")[0].Data["reason"]);
        Assert.IsType<HangUp>(moved[^1]);
        var first = _llm.Requests.First();
        Assert.Equal(
            ["system: You are the receptionist of the Riverside practice.\n\nCollect the day the caller wants.", "assistant: Hi.", "system: Ask which day suits the caller."],
            LlmServer.Lines(first));
        Assert.Equal(["day_chosen"], LlmServer.ToolNames(first));
    }

    [Fact]
    public async Task The_model_calls_an_http_tool_sees_its_result_then_answers_and_can_end_the_call()
    {
        var nodes = new[]
        {
            Node("help", "conversation", initial: true, terminal: true, tools: [Lookup]),
        };
        _llm.Script(
            LlmServer.Calls(null, ("lookup", """{"number":"+15550001111"}""")),
            LlmServer.Text("Welcome back, Ada!"),
            LlmServer.Calls("Goodbye, Ada.", ("end_call", """{"reason":"caller is done"}""")));
        var conversation = Conversation(nodes);
        var start = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal(["Welcome back, Ada!"], Said(start));
        var called = Assert.Single(Traces(start, "tool_called"));
        Assert.Equal(("lookup", "llm"), (called.Data["tool"], called.Data["by"]));
        Assert.Equal(true, Assert.Single(Traces(start, "tool_result")).Data["ok"]);
        Assert.Equal("Ada", conversation.Variables["name"]); // tool results become variables too
        Assert.Contains(LlmServer.Lines(_llm.Requests.ElementAt(1)), l => l.StartsWith("tool: ", StringComparison.Ordinal) && l.Contains("\"name\":\"Ada\"", StringComparison.Ordinal));
        Assert.Contains(_tools.Requests, r => r.Path == "/lookup" && r.Body.Contains("+15550001111", StringComparison.Ordinal));

        var end = await Run(conversation.UserSpokeAsync("that's all, bye", CancellationToken.None));
        Assert.Equal(["Goodbye, Ada."], Said(end));
        Assert.Equal("agent ended the call", Assert.IsType<HangUp>(end[^1]).Reason);
        Assert.Contains("end_call", LlmServer.ToolNames(_llm.Requests.Last())); // a terminal node gets end_call without asking
    }

    [Fact]
    public async Task Transfer_call_goes_to_the_configured_number()
    {
        var nodes = new[] { Node("help", "conversation", """{"transfer_number":"+15557770000"}""", initial: true, builtins: ["transfer_call"]) };
        _llm.Script(LlmServer.Calls("Let me put you through.", ("transfer_call", """{"reason":"wants a human"}""")));
        var start = await Run(Conversation(nodes).StartAsync(CancellationToken.None));
        Assert.Equal(["Let me put you through."], Said(start));
        Assert.Equal("+15557770000", Assert.IsType<Transfer>(start[^1]).Number);
        Assert.Equal("+15557770000", Assert.Single(Traces(start, "transfer")).Data["number"]);
    }

    [Theory]
    [InlineData(429, "rate_limited")]
    [InlineData(500, "server_error")]
    [InlineData(503, "server_error")]
    public async Task A_failing_model_gives_the_fallback_line_and_an_event_and_the_call_goes_on(int status, string kind)
    {
        _llm.Script(LlmServer.Error(status), LlmServer.Text("Sorry about that. How can I help?"));
        var conversation = Conversation(null, greeting: "Hello.");
        await Run(conversation.StartAsync(CancellationToken.None));
        var failed = await Run(conversation.UserSpokeAsync("hello?", CancellationToken.None));
        Assert.Equal([Settings().FallbackLine], Said(failed));
        var error = Assert.Single(Traces(failed, "llm_error"));
        Assert.Equal((kind, (object?)status), (error.Data["kind"], error.Data["status"]));
        Assert.DoesNotContain(failed, o => o is HangUp);

        var recovered = await Run(conversation.UserSpokeAsync("are you there?", CancellationToken.None));
        Assert.Equal(["Sorry about that.", "How can I help?"], Said(recovered));
    }

    [Fact]
    public async Task A_model_that_does_not_answer_in_time_or_at_all_or_refuses_the_key_is_an_error_not_a_crash()
    {
        _llm.Script(LlmServer.Stalled(TimeSpan.FromSeconds(5), "Too late."));
        var slow = await Run(Conversation(null, settings: Settings() with { FirstTokenTimeout = TimeSpan.FromMilliseconds(300) }).StartAsync(CancellationToken.None));
        var timeout = Assert.Single(Traces(slow, "llm_error"));
        Assert.Equal("timeout", timeout.Data["kind"]);
        Assert.Equal([Settings().FallbackLine], Said(slow));

        var refused = await Run(Conversation(null, settings: Settings(key: "sk-wrong")).StartAsync(CancellationToken.None));
        Assert.Equal(("refused", (object?)401), (Traces(refused, "llm_error")[0].Data["kind"], Traces(refused, "llm_error")[0].Data["status"]));
        Assert.DoesNotContain("sk-wrong", (string)Traces(refused, "llm_error")[0].Data["message"]!, StringComparison.Ordinal);

        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        var unreachable = await Run(Conversation(null, settings: Settings(url: new Uri($"http://127.0.0.1:{port}/v1/"))).StartAsync(CancellationToken.None));
        Assert.Equal("unreachable", Traces(unreachable, "llm_error")[0].Data["kind"]);
    }

    [Fact]
    public async Task A_barge_in_tells_the_model_what_the_caller_actually_heard()
    {
        _llm.Script(LlmServer.Text("Our opening hours are nine to five. ", "On Saturdays we open at ten. ", "On Sundays we are closed."), LlmServer.Text("Of course."));
        var conversation = Conversation(null, greeting: "Hello.");
        await Run(conversation.StartAsync(CancellationToken.None));
        using var bargeIn = new CancellationTokenSource();
        var heard = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var output in conversation.UserSpokeAsync("when are you open", bargeIn.Token))
            {
                if (output is Say say)
                {
                    heard.Add(say.Text);
                    await bargeIn.CancelAsync(); // the caller speaks over the first sentence
                }
            }
        });
        conversation.Interrupted("Our opening hours are… ");
        await Run(conversation.UserSpokeAsync("sorry, on saturday?", CancellationToken.None));
        var lines = LlmServer.Lines(_llm.Requests.Last());
        Assert.True(lines.Contains("assistant: Our opening hours are… [cut off here: the caller interrupted]"), string.Join("\n", lines));
        Assert.Equal("user: sorry, on saturday?", lines[^1]);
        Assert.DoesNotContain(lines, l => l.Contains("Sundays", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Context_strategies_append_reset_and_reset_with_summary()
    {
        const string Done = """[{"name":"next","description":"Move on","next_node_key":"{0}"}]""";
        var nodes = new[]
        {
            Node("first", "conversation", initial: true, functions: Done.Replace("{0}", "kept", StringComparison.Ordinal)),
            Node("kept", "conversation", """{"context_strategy":"append"}""", functions: Done.Replace("{0}", "fresh", StringComparison.Ordinal)),
            Node("fresh", "conversation", """{"context_strategy":"reset"}""", task: """[{"role":"system","content":"Start afresh."}]""",
                functions: Done.Replace("{0}", "summed", StringComparison.Ordinal)),
            Node("summed", "conversation", """{"context_strategy":"reset_with_summary"}""", terminal: true),
        };
        _llm.Script(
            LlmServer.Text("One."),
            LlmServer.Calls(null, ("next", "{}")), LlmServer.Text("Two."),
            LlmServer.Calls(null, ("next", "{}")), LlmServer.Text("Three."),
            LlmServer.Calls(null, ("next", "{}")), LlmServer.Text("The caller is Ada and wants Friday."), LlmServer.Text("Four."));
        var conversation = Conversation(nodes);
        await Run(conversation.StartAsync(CancellationToken.None));
        await Run(conversation.UserSpokeAsync("my name is ada", CancellationToken.None));
        var requests = _llm.Requests.ToList();
        Assert.Contains("user: my name is ada", LlmServer.Lines(requests[2])); // append keeps what came before
        await Run(conversation.UserSpokeAsync("friday", CancellationToken.None));
        requests = [.. _llm.Requests];
        Assert.Equal(["system: You are the receptionist of the Riverside practice.", "system: Start afresh."], LlmServer.Lines(requests[4])); // reset
        await Run(conversation.UserSpokeAsync("yes", CancellationToken.None));
        requests = [.. _llm.Requests];
        var summary = requests[6];
        Assert.False(summary["stream"]?.GetValue<bool>() ?? false);
        Assert.Contains("Caller: yes", LlmServer.Lines(summary)[1], StringComparison.Ordinal);
        Assert.Equal(
            ["system: You are the receptionist of the Riverside practice.", "system: Summary of the conversation so far: The caller is Ada and wants Friday."],
            LlmServer.Lines(requests[7]));
        Assert.Equal("summed", conversation.CurrentNode);
    }

    [Fact]
    public async Task Tool_rounds_are_capped_then_the_model_must_answer_in_words()
    {
        var nodes = new[] { Node("help", "conversation", initial: true, terminal: true, tools: [Lookup]) };
        var loop = Enumerable.Range(0, FlowConversation.MaxToolRounds).Select(_ => LlmServer.Calls(null, ("lookup", """{"number":"1"}"""))).ToArray();
        _llm.Script([.. loop, LlmServer.Text("Here is what I found.")]);
        var start = await Run(Conversation(nodes).StartAsync(CancellationToken.None));
        Assert.Equal(["Here is what I found."], Said(start));
        Assert.Equal(FlowConversation.MaxToolRounds, Traces(start, "tool_called").Count);
        Assert.Contains(Traces(start, "warning"), w => ((string)w.Data["message"]!).Contains("tool rounds", StringComparison.Ordinal));
        Assert.Empty(LlmServer.ToolNames(_llm.Requests.Last()));
    }

    [Fact]
    public async Task A_global_node_interrupts_a_conversation_node_and_returns_to_it()
    {
        var nodes = new[]
        {
            Node("chat", "conversation", initial: true, terminal: true),
            Node("hours", "say", """{"text":"We open at nine.","trigger":{"phrases":["opening hours"]}}""", global: true),
        };
        _llm.Script(LlmServer.Text("How can I help?"), LlmServer.Text("Anything else?"));
        var conversation = Conversation(nodes);
        await Run(conversation.StartAsync(CancellationToken.None));
        var global = await Run(conversation.UserSpokeAsync("what are your opening hours", CancellationToken.None));
        Assert.Equal(["We open at nine.", "Anything else?"], Said(global));
        Assert.Equal("chat", conversation.CurrentNode);
        Assert.Contains(global.OfType<Trace>(), t => t.Type == "node_transition" && (string?)t.Data["reason"] == "return from global");
    }

    [Fact]
    public async Task Without_a_model_a_conversation_node_says_sorry_and_ends()
    {
        var agent = new AgentDefinition { Name = "no-llm", Flow = FlowJson.Parse([Node("chat", "conversation", initial: true, terminal: true)]) };
        var outputs = await Run(new FlowConversation(agent, new HttpToolInvoker(_http)).StartAsync(CancellationToken.None));
        Assert.Contains(outputs.OfType<Trace>(), t => t.Type == "error");
        Assert.IsType<HangUp>(outputs[^1]);
    }
}
