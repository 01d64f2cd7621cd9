using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace VoiceStudio.Web.Components.Shared;

/// <summary>One parameter as the tool editor's builder shows it: a name, a plain-language type, a description for the model.</summary>
public sealed class ToolParameter
{
    public string Name { get; set; } = "";
    public string Type { get; set; } = ToolParameters.Text;
    public string Description { get; set; } = "";
    public bool Required { get; set; } = true;
    /// <summary>For text: the only values allowed, comma separated (empty means any text).</summary>
    public string Choices { get; set; } = "";
}

/// <summary>
/// Converts between a tool's JSON Schema (OpenAI function parameters) and the rows of the parameter builder, so a designer
/// can describe "order_id, text, required" without writing JSON. Schemas the rows cannot express (nested objects, numeric
/// ranges…) are reported as such and stay editable as JSON.
/// </summary>
public static partial class ToolParameters
{
    public const string Text = "text";
    public const string Number = "number";
    public const string WholeNumber = "whole number";
    public const string YesNo = "yes/no";
    public const string ListOfText = "list of text";

    public static readonly IReadOnlyList<string> Types = [Text, Number, WholeNumber, YesNo, ListOfText];

    /// <summary>The rows for <paramref name="schema"/>, or null with the reason when the builder cannot show it faithfully.</summary>
    public static List<ToolParameter>? FromSchema(string schema, out string? reason)
    {
        reason = null;
        JsonObject root;
        try
        {
            if (JsonNode.Parse(string.IsNullOrWhiteSpace(schema) ? "{}" : schema) is not JsonObject parsed)
            {
                reason = "the schema is not a JSON object";
                return null;
            }
            root = parsed;
        }
        catch (JsonException e)
        {
            reason = $"the schema is not valid JSON: {e.Message}";
            return null;
        }
        foreach (var (key, _) in root)
        {
            if (key is not ("type" or "properties" or "required" or "additionalProperties"))
            {
                reason = $"the schema uses \"{key}\"";
                return null;
            }
        }
        var required = root["required"] is JsonArray r ? r.Select(n => n?.ToString()).ToHashSet() : [];
        var rows = new List<ToolParameter>();
        foreach (var (name, value) in root["properties"] as JsonObject ?? [])
        {
            if (value is not JsonObject property)
            {
                reason = $"parameter '{name}' is not an object";
                return null;
            }
            var extra = property.Select(p => p.Key).FirstOrDefault(k => k is not ("type" or "description" or "enum" or "items"));
            if (extra is not null)
            {
                reason = $"parameter '{name}' uses \"{extra}\"";
                return null;
            }
            var type = property["type"]?.ToString();
            var row = new ToolParameter
            {
                Name = name,
                Description = property["description"]?.ToString() ?? "",
                Required = required.Contains(name),
            };
            switch (type)
            {
                case "string":
                    row.Type = Text;
                    if (property["enum"] is JsonArray choices)
                    {
                        row.Choices = string.Join(", ", choices.Select(c => c?.ToString()));
                    }
                    break;
                case "number":
                    row.Type = Number;
                    break;
                case "integer":
                    row.Type = WholeNumber;
                    break;
                case "boolean":
                    row.Type = YesNo;
                    break;
                case "array" when property["items"] is JsonObject items && items.Count == 1 && items["type"]?.ToString() == "string":
                    row.Type = ListOfText;
                    break;
                default:
                    reason = $"parameter '{name}' has type {type ?? "(none)"}";
                    return null;
            }
            if ((property["enum"] is not null && row.Type != Text) || (property["items"] is not null && row.Type != ListOfText))
            {
                reason = $"parameter '{name}' combines its type with other rules";
                return null;
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The JSON Schema the model is given for these rows.</summary>
    public static JsonObject ToSchema(IEnumerable<ToolParameter> rows)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var row in rows)
        {
            var name = row.Name.Trim();
            var property = new JsonObject();
            switch (row.Type)
            {
                case Number:
                    property["type"] = "number";
                    break;
                case WholeNumber:
                    property["type"] = "integer";
                    break;
                case YesNo:
                    property["type"] = "boolean";
                    break;
                case ListOfText:
                    property["type"] = "array";
                    property["items"] = new JsonObject { ["type"] = "string" };
                    break;
                default:
                    property["type"] = "string";
                    var choices = ChoicesOf(row);
                    if (choices.Count > 0)
                    {
                        property["enum"] = new JsonArray([.. choices.Select(c => (JsonNode)c)]);
                    }
                    break;
            }
            if (!string.IsNullOrWhiteSpace(row.Description))
            {
                property["description"] = row.Description.Trim();
            }
            properties[name] = property;
            if (row.Required)
            {
                required.Add(name);
            }
        }
        var schema = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (required.Count > 0)
        {
            schema["required"] = required;
        }
        return schema;
    }

    /// <summary>What is wrong with the rows, one message per problem, naming the row.</summary>
    public static List<string> Problems(IReadOnlyList<ToolParameter> rows)
    {
        var problems = new List<string>();
        for (var i = 0; i < rows.Count; i++)
        {
            var name = rows[i].Name.Trim();
            if (!ParameterName().IsMatch(name))
            {
                problems.Add($"parameter {i + 1}: name '{name}' must start with a letter and use only letters, digits or '_' (at most 64)");
            }
            else if (rows.Take(i).Any(r => r.Name.Trim() == name))
            {
                problems.Add($"parameter {i + 1}: '{name}' is already a parameter");
            }
        }
        return problems;
    }

    /// <summary>Test arguments typed as text, converted to the JSON each parameter's type asks for.</summary>
    public static JsonObject Arguments(IReadOnlyList<ToolParameter> rows, IReadOnlyDictionary<string, string> typed, List<string> problems)
    {
        var arguments = new JsonObject();
        foreach (var row in rows)
        {
            if (!typed.TryGetValue(row.Name, out var text) || string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            text = text.Trim();
            switch (row.Type)
            {
                case Number when double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number):
                    arguments[row.Name] = number;
                    break;
                case WholeNumber when long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var whole):
                    arguments[row.Name] = whole;
                    break;
                case YesNo when text.ToLowerInvariant() is "yes" or "true" or "no" or "false":
                    arguments[row.Name] = text.ToLowerInvariant() is "yes" or "true";
                    break;
                case ListOfText:
                    arguments[row.Name] = new JsonArray([.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(t => (JsonNode)t)]);
                    break;
                case Text:
                    arguments[row.Name] = text;
                    break;
                default:
                    problems.Add($"{row.Name}: '{text}' is not a {row.Type}");
                    break;
            }
        }
        return arguments;
    }

    private static List<string> ChoicesOf(ToolParameter row) =>
        [.. row.Choices.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct()];

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ParameterName();
}
