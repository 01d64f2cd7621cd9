using System.Text.Json.Nodes;
using Bunit;
using VoiceStudio.Data.Tools;
using VoiceStudio.Web.Components.Designer;
using VoiceStudio.Web.Features.Flows;

namespace VoiceStudio.Tests.Components;

/// <summary>The designer's inspector: each node type's fields write the flow document the runtime reads.</summary>
public sealed class InspectorTests : ComponentContext
{
    private static JsonObject NodeOf(string type)
    {
        var design = new FlowDesign([]);
        design.Add("end", 0, 0);
        design.Add("say", 0, 0);
        return (JsonObject)design.Add(type, 0, 0).DeepClone();
    }

    private IRenderedComponent<NodeInspector> Inspect(JsonObject node, List<string> changes, IReadOnlyList<Tool>? tools = null) =>
        Render<NodeInspector>(p => p
            .Add(c => c.Node, node)
            .Add(c => c.NodeKeys, ["end_1", "say_1", FlowDesign.KeyOf(node)])
            .Add(c => c.Variables, ["customer", "day"])
            .Add(c => c.Tools, tools ?? [])
            .Add(c => c.Problems, ["config.text: template does not parse"])
            .Add(c => c.Changed, field => changes.Add(field)));

    [Fact]
    public void A_say_node_writes_its_text_and_shows_its_problems()
    {
        var node = NodeOf("say");
        var changes = new List<string>();
        var inspector = Inspect(node, changes);
        Assert.Equal("config.text: template does not parse", inspector.Find("[data-testid=inspector-problem]").TextContent);
        inspector.Find("textarea[data-testid=say-text-input]").Input("Hello {{customer}}");
        Assert.Equal("Hello {{customer}}", node["config"]!["text"]!.GetValue<string>());
        Assert.Equal(["$.config.text"], changes);
    }

    [Fact]
    public void An_ask_node_edits_intents_with_phrases_and_keys_and_adds_answers()
    {
        var node = NodeOf("ask");
        var changes = new List<string>();
        var inspector = Inspect(node, changes);
        inspector.Find("input[data-testid=intent-phrases-0]").Input("yes, yeah , sure thing");
        Assert.Equal(["yes", "yeah", "sure thing"], node["config"]!["intents"]![0]!["phrases"]!.AsArray().Select(p => p!.GetValue<string>()));
        inspector.Find("button[data-testid=add-intent]").Click();
        Assert.Equal(2, node["config"]!["intents"]!.AsArray().Count);
        Assert.Equal(2, inspector.FindAll("[data-testid=intent]").Count);
        Assert.Equal("answer_2", node["config"]!["intents"]![1]!["name"]!.GetValue<string>());
        Assert.Equal(2, changes.Count);
    }

    [Fact]
    public void A_condition_node_builds_rules_from_dropdowns_and_hides_the_value_for_yes_no_checks()
    {
        var node = NodeOf("condition");
        node["config"]!["branches"]![0]!["rules"]![0]!["operator"] = "is_true";
        var inspector = Inspect(node, []);
        Assert.Single(inspector.FindAll("[data-testid=rule]"));
        Assert.Empty(inspector.FindAll("[data-testid=rule-value-0-0]")); // is_true needs no value
        node["config"]!["branches"]![0]!["rules"]![0]!["operator"] = "greater_than";
        inspector.Render();
        Assert.NotEmpty(inspector.FindAll("input[data-testid=rule-value-0-0]"));
    }

    [Fact]
    public void A_rename_that_clashes_is_refused_with_the_reason()
    {
        var node = NodeOf("end");
        var inspector = Render<NodeInspector>(p => p
            .Add(c => c.Node, node)
            .Add(c => c.NodeKeys, ["end_1", "say_1", "end_2"])
            .Add(c => c.Rename, key => Task.FromResult<string?>(key == "say_1" ? "'say_1' is already a node" : null)));
        var key = inspector.Find("input[data-testid=inspector-key]");
        key.Change("say_1");
        key.Blur();
        Assert.Contains("'say_1' is already a node", inspector.Markup);
    }

    [Fact]
    public void Typing_two_braces_suggests_variables_and_picking_one_completes_it()
    {
        string? text = "Hello {{cu";
        var field = Render<TemplateText>(p => p
            .Add(c => c.Value, text)
            .Add(c => c.Variables, ["customer", "current_time", "day"])
            .Add(c => c.ValueChanged, v => text = v)
            .Add(c => c.TestId, "greeting"));
        var chips = field.FindAll("[data-testid=greeting-suggestions] .mud-chip");
        Assert.Equal(["customer", "current_time"], chips.Select(c => c.TextContent.Trim()));
        chips[0].Click();
        Assert.Equal("Hello {{customer}}", text);
        Assert.Null(TemplateText.OpenPrefix("Hello {{customer}} and"));
        Assert.Equal("", TemplateText.OpenPrefix("Hi {{"));
    }
}
