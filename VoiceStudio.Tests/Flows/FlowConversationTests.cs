using System.Text.Json.Nodes;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Flows;

using static VoiceStudio.Tests.Flows.Outputs;

namespace VoiceStudio.Tests.Flows;

/// <summary>The flow runtime, node type by node type, with its HTTP tools answered by a real local server.</summary>
public sealed class FlowConversationTests(ToolServer tools) : IClassFixture<ToolServer>, IDisposable
{
    private static readonly Guid Lookup = Guid.NewGuid();
    private static readonly Guid Fail = Guid.NewGuid();
    private static readonly Guid Slow = Guid.NewGuid();
    private static readonly Guid Garbled = Guid.NewGuid();
    private static readonly Guid LookupByGet = Guid.NewGuid();

    private readonly HttpClient _http = new(HttpToolInvoker.CreateHandler(allowLinkLocal: false)) { Timeout = Timeout.InfiniteTimeSpan };

    private static StoredNode Node(string key, string type, string config, bool initial = false, bool global = false, string pre = "[]", string post = "[]", bool interrupt = true) => new()
    {
        Key = key,
        Type = type,
        Config = config,
        IsInitial = initial,
        IsGlobal = global,
        PreActions = pre,
        PostActions = post,
        AllowInterrupt = interrupt,
    };

    private FlowConversation Conversation(IEnumerable<StoredNode> nodes, string? greeting = null, IReadOnlyList<Guid>? preCall = null, Dictionary<string, string>? variables = null)
    {
        ToolDefinition Tool(Guid id, string name, string path, bool get = false, double timeout = 10) => new()
        {
            Id = id,
            Name = name,
            Url = new Uri(tools.BaseUri, path),
            UseGet = get,
            Timeout = TimeSpan.FromSeconds(timeout),
            Headers = new Dictionary<string, string> { ["X-Api-Key"] = "secret" },
        };
        var agent = new AgentDefinition
        {
            Name = "test",
            Greeting = greeting,
            Variables = variables ?? new Dictionary<string, string> { ["practice"] = "Riverside" },
            Tools = new Dictionary<Guid, ToolDefinition>
            {
                [Lookup] = Tool(Lookup, "lookup", "/lookup"),
                [LookupByGet] = Tool(LookupByGet, "lookup_get", "/lookup", get: true),
                [Fail] = Tool(Fail, "fail", "/fail"),
                [Slow] = Tool(Slow, "slow", "/slow", timeout: 0.3),
                [Garbled] = Tool(Garbled, "garbled", "/garbled"),
            },
            PreCallToolIds = preCall ?? [],
            Flow = FlowJson.Parse(nodes),
        };
        var conversation = new FlowConversation(agent, new HttpToolInvoker(_http));
        conversation.Bind(new CallContext { CallId = "call-1", Provider = "twilio", From = "+15550001111", To = "+15550002222", Parameters = new Dictionary<string, string> { ["campaign"] = "spring" } });
        return conversation;
    }

    private static string Said(List<ConversationOutput> outputs) => string.Join(" ", outputs.OfType<Say>().Select(s => s.Text));


    private static readonly StoredNode[] Menu =
    [
        Node("menu", "ask", """
            {"prompt":"Say book or hours.","intents":[
              {"name":"book","phrases":["book an appointment","book"],"dtmf":"1","next_node_key":"day"},
              {"name":"hours","phrases":["opening hours"],"keywords":["open"],"dtmf":2,"next_node_key":"hours"}],
             "no_match":{"reprompt":"Sorry, say book or hours.","max":1},"no_input":{"reprompt":"Still there?","max":1},"fallback_node_key":"bye"}
            """, initial: true),
        Node("hours", "say", """{"text":"We open at nine, {{practice}} team.","next_node_key":"bye"}"""),
        Node("day", "ask", """{"prompt":"Which day?","captures":[{"variable":"day","pattern":"weekday"}],"next_node_key":"check","fallback_node_key":"bye"}"""),
        Node("check", "tool", $$$"""{"tool_id":"{{{Lookup}}}","arguments":{"number":"{{caller_number}}","day":"{{day}}"},"result_variables":{"who":"name","tier":"plan.tier","seats":"plan.seats[1]"},"on_success_node_key":"done","on_failure_node_key":"bye"}"""),
        Node("done", "say", """{"text":"Booked for {{day}}, {{who}} ({{tier}}, {{seats}} seats).","next_node_key":"bye"}"""),
        Node("bye", "end", """{"text":"Goodbye!"}"""),
    ];

    [Fact]
    public async Task A_flow_greets_routes_by_intent_captures_a_day_calls_a_tool_and_hangs_up()
    {
        var conversation = Conversation(Menu, greeting: "Hello from {{practice}}.");
        var start = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal("Hello from Riverside. Say book or hours.", Said(start));
        Assert.Equal("menu", conversation.CurrentNode);
        Assert.Contains("book an appointment", conversation.ExpectedPhrases!);
        Assert.Contains("open", conversation.ExpectedPhrases!);

        var booked = await Run(conversation.UserSpokeAsync("I'd like to book an appointment please", CancellationToken.None));
        Assert.Equal("Which day?", Said(booked));
        Assert.Contains("tuesday", conversation.ExpectedPhrases!);
        Assert.Contains("on tuesday", conversation.ExpectedPhrases!);
        var transition = Assert.Single(Traces(booked, "node_transition"));
        Assert.Equal("intent book", transition.Data["reason"]);

        var done = await Run(conversation.UserSpokeAsync("tuesday please", CancellationToken.None));
        Assert.Equal("Booked for tuesday, Ada (gold, 5 seats). Goodbye!", Said(done));
        Assert.IsType<HangUp>(done[^1]);
        var called = Assert.Single(Traces(done, "tool_called"));
        Assert.Equal("""{"number":"+15550001111","day":"tuesday"}""", called.Data["arguments"]);
        var result = Assert.Single(Traces(done, "tool_result"));
        Assert.Equal(true, result.Data["ok"]);
        Assert.True((double)result.Data["latency_ms"]! > 0);
        Assert.Equal(["menu", "day", "check", "done", "bye"], start.Concat(booked).Concat(done).OfType<Trace>().Where(t => t.Type == "node_entered").Select(t => t.Data["node"]));

        // The tool got the arguments, the call's metadata and the configured header.
        var request = JsonNode.Parse(tools.Requests.Last(r => r.Path == "/lookup").Body)!;
        Assert.Equal("tuesday", request["day"]!.GetValue<string>());
        Assert.Equal("call-1", request["call"]!["id"]!.GetValue<string>());
        Assert.Equal("spring", request["call"]!["variables"]!["campaign"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keys_pick_intents_and_keywords_match_inside_longer_answers()
    {
        var byKey = Conversation(Menu);
        await Run(byKey.StartAsync(CancellationToken.None));
        Assert.Equal("We open at nine, Riverside team. Goodbye!", Said(await Run(byKey.DtmfAsync('2', CancellationToken.None))));

        var byKeyword = Conversation(Menu);
        await Run(byKeyword.StartAsync(CancellationToken.None));
        Assert.StartsWith("We open at nine", Said(await Run(byKeyword.UserSpokeAsync("when are you open tomorrow", CancellationToken.None))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_match_and_no_input_reprompt_then_take_the_fallback()
    {
        var conversation = Conversation(Menu);
        await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal("Sorry, say book or hours.", Said(await Run(conversation.UserSpokeAsync("purple elephants", CancellationToken.None))));
        Assert.Equal("Still there?", Said(await Run(conversation.UserIdleAsync(1, CancellationToken.None))));
        var fallback = await Run(conversation.UserSpokeAsync("", CancellationToken.None));
        Assert.Equal("Goodbye!", Said(fallback));
        Assert.Equal("no match", Traces(fallback, "node_transition").Single().Data["reason"]);
        Assert.IsType<HangUp>(fallback[^1]);
    }

    [Fact]
    public async Task A_failing_tool_takes_the_failure_edge_with_the_reason_in_its_result()
    {
        foreach (var (tool, error) in new[] { (Fail, "HTTP 409: no slots on that day"), (Slow, "timed out after 0.3 s"), (Garbled, "not valid JSON") })
        {
            var conversation = Conversation(
            [
                Node("call", "tool", $$"""{"tool_id":"{{tool}}","on_success_node_key":"ok","on_failure_node_key":"sorry"}""", initial: true),
                Node("ok", "end", """{"text":"Worked."}"""),
                Node("sorry", "end", """{"text":"Sorry: {{last_tool_error}}"}"""),
            ]);
            var outputs = await Run(conversation.StartAsync(CancellationToken.None));
            var result = Traces(outputs, "tool_result").Single();
            Assert.Equal(false, result.Data["ok"]);
            Assert.Contains(error, (string)result.Data["error"]!, StringComparison.Ordinal);
            Assert.StartsWith("Sorry: ", Said(outputs), StringComparison.Ordinal);
            Assert.Contains(error, Said(outputs), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Tools_refuse_link_local_and_metadata_addresses_and_report_unreachable_hosts()
    {
        var invoker = new HttpToolInvoker(_http);
        var call = new ToolCallContext("c", "a", null, "inbound", new Dictionary<string, string>());
        var metadata = await invoker.InvokeAsync(new ToolDefinition { Name = "meta", Url = new Uri("http://169.254.169.254/latest/meta-data") }, [], call, CancellationToken.None);
        Assert.False(metadata.Ok);
        Assert.Contains("link-local or cloud-metadata", metadata.Error, StringComparison.Ordinal);
        var nowhere = await invoker.InvokeAsync(new ToolDefinition { Name = "x", Url = new Uri("http://no-such-host.invalid/tool") }, [], call, CancellationToken.None);
        Assert.False(nowhere.Ok);
        Assert.Contains("could not resolve", nowhere.Error, StringComparison.Ordinal);
        var byGet = await invoker.InvokeAsync(new ToolDefinition { Name = "get", Url = new Uri(tools.BaseUri, "/lookup"), UseGet = true }, new JsonObject { ["number"] = "+1 555" }, call, CancellationToken.None);
        Assert.True(byGet.Ok, byGet.Error);
        Assert.Equal("+1 555", byGet.Json!["number"]!.GetValue<string>());
    }

    [Fact]
    public async Task Conditions_branch_on_variables_and_global_nodes_return_to_where_the_caller_was()
    {
        var conversation = Conversation(
        [
            Node("route", "condition", """
                {"branches":[{"match":"all","rules":[{"variable":"campaign","operator":"equals","value":"SPRING"},{"variable":"caller_number","operator":"starts_with","value":"+1555"}],"next_node_key":"ask"}],
                 "else_node_key":"bye"}
                """, initial: true),
            Node("ask", "ask", """{"prompt":"Yes or no?","captures":[{"variable":"answer","pattern":"yes_no"}],"next_node_key":"bye"}"""),
            Node("help", "say", """{"text":"You are talking to a robot.","trigger":{"phrases":["human","operator"],"dtmf":"0"}}""", global: true),
            Node("bye", "end", """{"text":"You said {{answer}}."}"""),
        ]);
        Assert.Equal("Yes or no?", Said(await Run(conversation.StartAsync(CancellationToken.None))));
        Assert.Contains("operator", conversation.ExpectedPhrases!);
        var help = await Run(conversation.UserSpokeAsync("can I talk to an operator", CancellationToken.None));
        Assert.Equal("You are talking to a robot. Yes or no?", Said(help));
        Assert.Equal("ask", conversation.CurrentNode);
        Assert.Equal("You said yes.", Said(await Run(conversation.UserSpokeAsync("yeah sure", CancellationToken.None))));
    }

    [Fact]
    public async Task A_loop_without_the_caller_is_stopped_after_ten_transitions()
    {
        var conversation = Conversation(
        [
            Node("a", "say", """{"text":"A.","next_node_key":"b"}""", initial: true),
            Node("b", "say", """{"text":"B.","next_node_key":"a"}"""),
        ]);
        var outputs = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal(FlowConversation.MaxAutomaticTransitions, outputs.OfType<Say>().Count());
        Assert.Contains("automatic transitions", (string)Traces(outputs, "warning").Single().Data["message"]!, StringComparison.Ordinal);
        Assert.IsType<HangUp>(outputs[^1]);
    }

    [Fact]
    public async Task A_missing_variable_renders_empty_with_a_warning_and_pre_call_tools_fill_variables_before_the_first_node()
    {
        var conversation = Conversation(
            [Node("hi", "end", """{"text":"Hi {{name}}, {{nickname}}!"}""", initial: true)],
            greeting: "Welcome.",
            preCall: [Lookup]);
        var outputs = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal("Welcome. Hi Ada, !", Said(outputs));
        Assert.Equal("variable 'nickname' has no value; rendered empty", Traces(outputs, "warning").Single().Data["message"]);
        Assert.Equal(true, Traces(outputs, "tool_called").Single().Data["pre_call"]);
        Assert.IsType<Say>(outputs.First(o => o is Say)); // the greeting does not wait for the pre-call tool
        Assert.True(outputs.FindIndex(o => o is Say) < outputs.FindIndex(o => o is Trace { Type: "tool_result" }));
    }

    [Fact]
    public async Task Pre_and_post_actions_run_on_entry_and_exit_and_a_node_can_forbid_interruptions()
    {
        var conversation = Conversation(
        [
            Node("first", "say", """{"text":"First {{who}}.","next_node_key":"last"}""", initial: true, interrupt: false,
                pre: "[{\"type\":\"tool\",\"tool_id\":\"" + Lookup + "\",\"result_variables\":{\"who\":\"name\"}}]",
                post: """[{"type":"say","text":"Leaving first."}]"""),
            Node("last", "end", """{"text":"Done."}"""),
        ]);
        var outputs = await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Equal("First Ada. Leaving first. Done.", Said(outputs));
        Assert.True(conversation.AllowInterrupt); // at "last" now

        var strict = Conversation([Node("only", "ask", """{"prompt":"Listen.","intents":[{"name":"x","phrases":["x"],"next_node_key":"only"}]}""", initial: true, interrupt: false)]);
        await Run(strict.StartAsync(CancellationToken.None));
        Assert.False(strict.AllowInterrupt);
    }

    [Fact]
    public async Task Typed_digits_fill_a_digits_capture_when_the_caller_presses_hash()
    {
        var conversation = Conversation(
        [
            Node("account", "ask", """{"prompt":"Type your account number then hash.","captures":[{"variable":"account","pattern":"digits"}],"next_node_key":"bye"}""", initial: true),
            Node("bye", "end", """{"text":"Account {{account}}."}"""),
        ]);
        await Run(conversation.StartAsync(CancellationToken.None));
        Assert.Null(conversation.ExpectedPhrases); // digits cannot be listed: the full language model listens
        foreach (var digit in "4071")
        {
            Assert.Empty(await Run(conversation.DtmfAsync(digit, CancellationToken.None)));
        }
        Assert.Equal("Account 4071.", Said(await Run(conversation.DtmfAsync('#', CancellationToken.None))));
    }

    public void Dispose() => _http.Dispose();
}
