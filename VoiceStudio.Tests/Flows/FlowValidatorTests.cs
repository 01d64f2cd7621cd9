using VoiceStudio.Media.Flows;

namespace VoiceStudio.Tests.Flows;

public sealed class FlowValidatorTests
{
    private static readonly Guid KnownTool = Guid.NewGuid();

    private static StoredNode Node(string key, string type, string config, bool initial = false) => new() { Key = key, Type = type, Config = config, IsInitial = initial };

    [Fact]
    public void A_sound_flow_has_no_problems()
    {
        StoredNode[] nodes =
        [
            Node("menu", "ask", """{"prompt":"Book?","intents":[{"name":"yes","phrases":["yes"],"next_node_key":"check"}],"fallback_node_key":"bye"}""", initial: true),
            Node("check", "tool", $$"""{"tool_id":"{{KnownTool}}","on_success_node_key":"bye"}"""),
            Node("bye", "end", """{"text":"Bye {{name}}."}"""),
        ];
        Assert.Empty(FlowValidator.Validate(nodes, [KnownTool]));
    }

    [Fact]
    public void Conversation_nodes_need_function_names_a_model_accepts()
    {
        StoredNode[] nodes =
        [
            new()
            {
                Key = "chat",
                Type = "conversation",
                IsInitial = true,
                Functions = """[{"name":"go on","next_node_key":"bye"},{"name":"done","next_node_key":"bye"},{"name":"done","next_node_key":"bye"},{"name":"end_call"},{"name":"odd","parameters":[1]}]""",
                BuiltinTools = ["end_call", "fly"],
            },
            Node("bye", "end", """{"text":"Bye."}"""),
        ];
        var problems = FlowValidator.Validate(nodes, []).Select(p => $"{p.Node}|{p.Field}").ToList();
        Assert.Equal(["chat|functions[0].name", "chat|functions[2].name", "chat|functions[3].name", "chat|functions[4].parameters", "chat|builtin_tools[1]"], problems);
    }

    [Fact]
    public void Every_problem_names_its_node_and_field()
    {
        StoredNode[] nodes =
        [
            Node("menu", "ask", """{"prompt":"Book?","intents":[{"name":"yes","phrases":["yes"],"next_node_key":"nowhere"}]}""", initial: true),
            Node("second", "say", """{"text":"Hi {{ name","next_node_key":"menu"}""", initial: true),
            Node("check", "tool", $$"""{"tool_id":"{{Guid.Empty}}","on_success_node_key":"menu"}"""),
            Node("broken", "ask", """{"prompt":"x","intents":"not a list"}"""),
            Node("weird", "dance", "{}"),
        ];
        var problems = FlowValidator.Validate(nodes, [KnownTool]);
        Assert.Contains(new FlowProblem(null, "is_initial", "only one node may be initial (menu, second are)"), problems);
        Assert.Contains(problems, p => p is { Node: "menu", Field: "config.intents[0].next_node_key" } && p.Message.Contains("'nowhere'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p is { Node: "second", Field: "config.text" } && p.Message.StartsWith("template does not parse", StringComparison.Ordinal));
        Assert.Contains(problems, p => p is { Node: "check", Field: "config.tool_id" } && p.Message.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(new FlowProblem("broken", "config.intents", "must be a list"), problems);
        Assert.Contains(problems, p => p is { Node: "weird", Field: "type" });
    }

    [Fact]
    public void Unreachable_nodes_and_flows_that_never_end_are_reported()
    {
        StoredNode[] nodes =
        [
            Node("a", "say", """{"text":"A.","next_node_key":"b"}""", initial: true),
            Node("b", "say", """{"text":"B.","next_node_key":"a"}"""),
            Node("island", "end", """{"text":"Never said."}"""),
        ];
        var problems = FlowValidator.Validate(nodes, []);
        Assert.Contains(new FlowProblem("island", "node_key", "cannot be reached from the initial node"), problems);
        Assert.Contains(problems, p => p is { Node: null, Field: "nodes" } && p.Message.StartsWith("no end, transfer or terminal node", StringComparison.Ordinal));
    }
}
