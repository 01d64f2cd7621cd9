using System.Text.Json.Nodes;
using VoiceStudio.Web.Features.Flows;

namespace VoiceStudio.Tests.Flows;

/// <summary>The designer's flow model: edits keep edges, keys and the initial node consistent, and undo brings back what was.</summary>
public sealed class FlowDesignTests
{
    private static FlowDesign ThreeNodes()
    {
        var design = new FlowDesign([]);
        design.Add("say", 0, 0);
        design.Add("ask", 300, 0);
        design.Add("end", 600, 0);
        Assert.True(design.Connect("say_1", "next", "ask_1"));
        Assert.True(design.Connect("ask_1", "intent-0", "end_1"));
        Assert.True(design.Connect("ask_1", "fallback", "end_1"));
        return design;
    }

    [Fact]
    public void Nodes_get_fresh_keys_the_first_is_initial_and_connections_land_in_the_document()
    {
        var design = ThreeNodes();
        Assert.Equal(["say_1", "ask_1", "end_1"], design.Nodes.Select(FlowDesign.KeyOf));
        Assert.Equal([true, false, false], design.Nodes.Select(n => n["is_initial"]!.GetValue<bool>()));
        Assert.Equal("ask_1", design.Find("say_1")!["config"]!["next_node_key"]!.GetValue<string>());
        Assert.Equal("end_1", design.Find("ask_1")!["config"]!["intents"]![0]!["next_node_key"]!.GetValue<string>());
        Assert.False(design.Connect("say_1", "nope", "end_1"));
        Assert.False(design.Connect("say_1", "next", "missing"));
    }

    [Fact]
    public void Deleting_a_node_cuts_the_edges_into_it_and_keeps_an_initial_node()
    {
        var design = ThreeNodes();
        design.Delete(["say_1", "end_1"], []);
        var ask = Assert.Single(design.Nodes);
        Assert.True(ask["is_initial"]!.GetValue<bool>());
        Assert.Null(ask["config"]!["intents"]![0]!["next_node_key"]);
        Assert.All(FlowDesign.PortsOf(ask), p => Assert.Null(p.Target));
    }

    [Fact]
    public void Deleting_an_edge_leaves_its_port_open_and_the_view_says_so()
    {
        var design = ThreeNodes();
        design.Delete([], [FlowDesign.EdgeId("say_1", "next")]);
        Assert.Null(design.Find("say_1")!["config"]!["next_node_key"]);
        var view = design.View([], null, []);
        Assert.Equal(2, view["edges"]!.AsArray().Count);
        var port = view["nodes"]![0]!["ports"]![0]!;
        Assert.Equal("not connected", port["problem"]!.GetValue<string>());
    }

    [Fact]
    public void Renaming_a_node_updates_every_edge_into_it()
    {
        var design = ThreeNodes();
        Assert.Equal("'ask_1' is already a node", design.Rename("end_1", "ask_1"));
        Assert.Equal("use 1 to 64 letters, digits, '_' or '-'", design.Rename("end_1", "good bye"));
        Assert.Null(design.Rename("end_1", "goodbye"));
        Assert.Equal(["goodbye", "goodbye"], FlowDesign.PortsOf(design.Find("ask_1")!).Select(p => p.Target));
    }

    [Fact]
    public void Undo_and_redo_walk_the_history_and_a_new_edit_clears_redo()
    {
        var design = ThreeNodes();
        var before = design.ToDocument().ToJsonString();
        design.Delete(["ask_1"], []);
        Assert.Equal(2, design.Nodes.Count);
        Assert.True(design.Undo());
        Assert.Equal(before, design.ToDocument().ToJsonString());
        Assert.True(design.Redo());
        Assert.Equal(2, design.Nodes.Count);
        Assert.True(design.Undo());
        design.Move([("say_1", 32, 48)]);
        Assert.False(design.CanRedo);
        while (design.Undo())
        {
        }
        Assert.Empty(design.Nodes);
    }

    [Fact]
    public void Pasting_copies_keeps_edges_inside_the_copy_and_cuts_the_rest()
    {
        var design = ThreeNodes();
        var clipboard = design.Copy(["ask_1", "end_1"]);
        var added = design.Paste(clipboard, 40, 40);
        Assert.Equal(["ask_1_copy", "end_1_copy"], added);
        var copy = design.Find("ask_1_copy")!;
        Assert.False(copy["is_initial"]!.GetValue<bool>());
        Assert.Equal(["end_1_copy", "end_1_copy"], FlowDesign.PortsOf(copy).Select(p => p.Target));
        Assert.Equal(340, copy["position"]!["x"]!.GetValue<double>());
        Assert.Equal(["ask_1_copy2", "end_1_copy2"], design.Paste(clipboard, 80, 80));
        Assert.Equal(["end_1"], FlowDesign.PortsOf(design.Find("ask_1")!).Select(p => p.Target).Distinct()); // the original is untouched
    }

    [Fact]
    public void The_view_marks_problems_on_their_node_and_port_and_draws_the_path_taken()
    {
        var design = ThreeNodes();
        design.Find("say_1")!["config"]!["next_node_key"] = "gone"; // dangling: no such node
        var problems = FlowDocument.Validate(design.ToDocument(), [], out _);
        var view = design.View(problems, "ask_1", ["say_1", "ask_1"]);
        var say = view["nodes"]![0]!;
        Assert.Contains(say["problems"]!.AsArray(), p => p!.GetValue<string>().StartsWith("config.next_node_key: goes to 'gone'", StringComparison.Ordinal));
        Assert.StartsWith("goes to 'gone'", say["ports"]![0]!["problem"]!.GetValue<string>());
        Assert.DoesNotContain(view["edges"]!.AsArray(), e => e!["source"]!.GetValue<string>() == "say_1"); // nothing to draw to
        Assert.Equal("ask_1", view["active"]!.GetValue<string>());
        Assert.Empty(view["path"]!.AsArray()); // say_1 no longer leads to ask_1

        design.Connect("say_1", "next", "ask_1");
        Assert.Equal(["say_1:next"], design.View([], "ask_1", ["say_1", "ask_1"])["path"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    [Fact]
    public void Every_template_is_a_valid_flow_that_needs_no_language_model()
    {
        Assert.Equal(["appointment-booking", "lead-qualification", "support-triage"], FlowTemplates.All.Select(t => t.Id));
        foreach (var template in FlowTemplates.All)
        {
            Assert.Empty(FlowDocument.Validate(template.Nodes, [], out var nodes));
            Assert.DoesNotContain(nodes, n => n.Type == VoiceStudio.Data.Agents.FlowNodeType.Conversation);
        }
    }
}
