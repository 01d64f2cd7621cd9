using System.Text.Json.Nodes;
using Bunit;
using VoiceStudio.Data.Agents;
using VoiceStudio.Web.Components.Shared;

namespace VoiceStudio.Tests.Components;

/// <summary>The agent editor's pieces with logic: the pipeline settings form and the name → value table.</summary>
public sealed class AgentFormTests : ComponentContext
{
    [Fact]
    public void The_pipeline_form_reads_defaults_and_writes_only_its_own_fields()
    {
        var empty = PipelineForm.FromJson("{}");
        Assert.Equal(0.8, empty.VadStopSeconds);
        Assert.True(empty.Interruptions);
        Assert.Equal(PipelineForm.Reprompt, empty.IdleAction);

        const string stored = """{"vad":{"confidence":0.5,"stop_secs":1.2,"model":"silero"},"interruptions":false,"user_idle_action":"hangup","custom":{"keep":true}}""";
        var form = PipelineForm.FromJson(stored);
        Assert.Equal(1.2, form.VadStopSeconds);
        Assert.Equal(0.2, form.VadStartSeconds); // missing: the default
        Assert.False(form.Interruptions);
        Assert.Equal(PipelineForm.HangUp, form.IdleAction);

        form.VadStopSeconds = 0.6;
        form.IdleTimeoutSeconds = 30;
        var written = form.ToJson(stored);
        Assert.Equal(0.6, written["vad"]!["stop_secs"]!.GetValue<double>());
        Assert.Equal("silero", written["vad"]!["model"]!.GetValue<string>()); // fields the form does not show stay
        Assert.True(written["custom"]!["keep"]!.GetValue<bool>());
        Assert.Equal(30, written["user_idle_timeout_secs"]!.GetValue<double>());
        Assert.Equal("vad", written["turn_detection"]!.GetValue<string>());
        Assert.Empty(form.Problems());

        // what the form writes is what the engine runs with
        var options = VoiceStudio.Web.Features.Agents.AgentRuntimeLoader.PipelineOptions(written.ToJsonString(), null);
        Assert.Equal(0.6, options.Vad.StopSeconds);
        Assert.False(options.Interruptions);
        Assert.Equal(TimeSpan.FromSeconds(30), options.UserIdleTimeout);
        Assert.Equal(0, options.MaxIdlePrompts); // hang up at once
    }

    [Fact]
    public void Out_of_range_pipeline_values_are_named()
    {
        var form = PipelineForm.FromJson(PipelineSettingsJson.Default);
        form.VadStopSeconds = 9;
        form.IdleTimeoutSeconds = 0;
        Assert.Equal(["end of turn silence (s) must be from 0.1 to 5", "idle timeout (s) must be from 1 to 600"], form.Problems());
    }

    [Fact]
    public void The_key_value_table_edits_a_json_object_and_names_empty_and_repeated_keys()
    {
        string? json = null;
        IReadOnlyList<string> problems = [];
        var table = Render<KeyValueEditor>(p => p
            .Add(c => c.Json, """{"customer":"friend","tier":3}""")
            .Add(c => c.TestId, "vars")
            .Add(c => c.KeyLabel, "Variable")
            .Add(c => c.JsonChanged, s => json = s)
            .Add(c => c.ProblemsChanged, (IReadOnlyList<string> list) => problems = list));
        Assert.Equal("3", table.Find("input[data-testid=vars-value-1]").GetAttribute("value"));

        table.Find("button[data-testid=vars-add]").Click();
        Assert.Equal(["row 3: the variable is empty"], problems);
        table.Find("input[data-testid=vars-key-2]").Input("customer");
        Assert.Equal(["row 3: 'customer' appears twice"], problems);
        table.Find("input[data-testid=vars-key-2]").Input("city");
        table.Find("input[data-testid=vars-value-2]").Input("Pune");
        Assert.Empty(problems);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"customer":"friend","tier":"3","city":"Pune"}"""), JsonNode.Parse(json!)));
    }
}
