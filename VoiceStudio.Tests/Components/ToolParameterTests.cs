using System.Text.Json.Nodes;
using Bunit;
using VoiceStudio.Web.Components.Shared;

namespace VoiceStudio.Tests.Components;

/// <summary>The tool editor's parameter builder: rows ↔ JSON Schema, and the component that edits them.</summary>
public sealed class ToolParameterTests : ComponentContext
{
    private const string OrderSchema = """
        {"type":"object","properties":{
          "order_id":{"type":"string","description":"The order number"},
          "size":{"type":"string","enum":["small","large"]},
          "quantity":{"type":"integer"},
          "gift":{"type":"boolean"},
          "notes":{"type":"array","items":{"type":"string"}}},
         "required":["order_id","quantity"]}
        """;

    [Fact]
    public void Rows_read_from_a_schema_write_the_same_schema_back()
    {
        var rows = ToolParameters.FromSchema(OrderSchema, out var reason)!;
        Assert.Null(reason);
        Assert.Equal(["order_id", "size", "quantity", "gift", "notes"], rows.Select(r => r.Name));
        Assert.Equal([ToolParameters.Text, ToolParameters.Text, ToolParameters.WholeNumber, ToolParameters.YesNo, ToolParameters.ListOfText], rows.Select(r => r.Type));
        Assert.Equal("small, large", rows[1].Choices);
        Assert.Equal([true, false, true, false, false], rows.Select(r => r.Required));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OrderSchema), ToolParameters.ToSchema(rows)));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}""", "parameter 'n' uses \"minimum\"")]
    [InlineData("""{"type":"object","properties":{"o":{"type":"object"}}}""", "parameter 'o' has type object")]
    [InlineData("""{"type":"object","oneOf":[]}""", "the schema uses \"oneOf\"")]
    [InlineData("""{"type":""", "the schema is not valid JSON")]
    public void Schemas_the_rows_cannot_express_are_named_not_mangled(string schema, string expected)
    {
        Assert.Null(ToolParameters.FromSchema(schema, out var reason));
        Assert.StartsWith(expected, reason);
    }

    [Fact]
    public void Bad_and_repeated_names_are_reported_by_row()
    {
        var problems = ToolParameters.Problems([new() { Name = "city" }, new() { Name = "2nd" }, new() { Name = "city" }, new() { Name = "" }]);
        Assert.Equal(3, problems.Count);
        Assert.StartsWith("parameter 2: name '2nd'", problems[0]);
        Assert.StartsWith("parameter 3: 'city' is already", problems[1]);
        Assert.StartsWith("parameter 4: name ''", problems[2]);
    }

    [Fact]
    public void Typed_test_arguments_become_the_json_types_of_their_parameters()
    {
        var rows = ToolParameters.FromSchema(OrderSchema, out _)!;
        var problems = new List<string>();
        var arguments = ToolParameters.Arguments(rows, new Dictionary<string, string>
        {
            ["order_id"] = " A-17 ",
            ["quantity"] = "3",
            ["gift"] = "yes",
            ["notes"] = "ring twice, leave at door",
            ["size"] = "",
        }, problems);
        Assert.Empty(problems);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"order_id":"A-17","quantity":3,"gift":true,"notes":["ring twice","leave at door"]}"""), arguments));

        ToolParameters.Arguments(rows, new Dictionary<string, string> { ["quantity"] = "three", ["gift"] = "maybe" }, problems);
        Assert.Equal(["quantity: 'three' is not a whole number", "gift: 'maybe' is not a yes/no"], problems);
    }

    [Fact]
    public void The_builder_shows_rows_and_adding_one_changes_the_schema()
    {
        string? schema = null;
        IReadOnlyList<string> problems = [];
        var builder = Render<ParameterBuilder>(p => p
            .Add(c => c.Schema, OrderSchema)
            .Add(c => c.SchemaChanged, s => schema = s)
            .Add(c => c.ProblemsChanged, (IReadOnlyList<string> list) => problems = list));
        Assert.Equal(5, builder.FindAll("[data-testid=parameter-row]").Count);
        Assert.Equal("order_id", builder.Find("input[data-testid=parameter-name-0]").GetAttribute("value"));

        builder.Find("button[data-testid=add-parameter]").Click();
        builder.Find("input[data-testid=parameter-name-5]").Input("city");
        builder.Find("input[data-testid=parameter-description-5]").Input("Where to deliver");
        var written = JsonNode.Parse(schema!)!;
        Assert.Equal("""{"type":"string","description":"Where to deliver"}""", written["properties"]!["city"]!.ToJsonString());
        Assert.Contains("city", written["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Empty(problems);

        builder.Find("input[data-testid=parameter-name-5]").Input("gift");
        Assert.Equal(["parameter 6: 'gift' is already a parameter"], problems);
        Assert.Equal("parameter 6: 'gift' is already a parameter", builder.Find("[data-testid=parameter-problem]").TextContent);

        builder.Find("button[data-testid=parameter-remove-5]").Click();
        Assert.Empty(problems);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OrderSchema), JsonNode.Parse(schema!)));
    }

    [Fact]
    public void A_schema_the_builder_cannot_show_opens_as_json_and_says_why()
    {
        var builder = Render<ParameterBuilder>(p => p.Add(c => c.Schema, """{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}"""));
        Assert.Contains("parameter 'n' uses \"minimum\"", builder.Find("[data-testid=builder-unavailable]").TextContent);
        Assert.Empty(builder.FindAll("[data-testid=parameter-row]"));
        Assert.Contains("minimum", builder.Find("textarea[data-testid=schema-json]").TextContent + builder.Find("textarea[data-testid=schema-json]").GetAttribute("value"));
    }

    [Fact]
    public void Json_that_is_not_an_object_schema_is_a_problem()
    {
        IReadOnlyList<string> problems = [];
        var builder = Render<ParameterBuilder>(p => p
            .Add(c => c.Schema, """{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}""")
            .Add(c => c.ProblemsChanged, (IReadOnlyList<string> list) => problems = list));
        builder.Find("textarea[data-testid=schema-json]").Input("""{"type":"array"}""");
        Assert.Equal(["the schema must be a JSON object with \"type\": \"object\""], problems);
        builder.Find("textarea[data-testid=schema-json]").Input("""{"type":""");
        Assert.StartsWith("not valid JSON", Assert.Single(problems));
    }
}
