using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Media.Flows;
using FlowNode = VoiceStudio.Data.Agents.FlowNode;

namespace VoiceStudio.Web.Features.Flows;

/// <summary>
/// A flow as the REST API, flow versions and agent exports carry it: a JSON array of nodes, each with the columns
/// of a flow node row in snake_case and its per-type fields in <c>config</c> (SPEC §7). Reading names every problem
/// by node and field, so an editor can put each where it belongs.
/// </summary>
public static partial class FlowDocument
{
    public static readonly IReadOnlySet<string> BuiltinTools = new HashSet<string>(StringComparer.Ordinal) { "end_call", "transfer_call" };

    public static JsonArray Write(IEnumerable<FlowNode> nodes) => [.. nodes.Select(Write)];

    public static JsonObject Write(FlowNode node) => new()
    {
        ["node_key"] = node.NodeKey,
        ["type"] = EnumNames.Of(node.Type),
        ["is_initial"] = node.IsInitial,
        ["is_terminal"] = node.IsTerminal,
        ["is_global"] = node.IsGlobal,
        ["allow_interrupt"] = node.AllowInterrupt,
        ["position"] = new JsonObject { ["x"] = node.PositionX, ["y"] = node.PositionY },
        ["config"] = Json(node.Config, "{}"),
        ["role_messages"] = Json(node.RoleMessages, "[]"),
        ["task_messages"] = Json(node.TaskMessages, "[]"),
        ["functions"] = Json(node.Functions, "[]"),
        ["tool_ids"] = new JsonArray([.. node.ToolIds.Select(id => JsonValue.Create(id))]),
        ["builtin_tools"] = new JsonArray([.. node.BuiltinTools.Select(t => JsonValue.Create(t))]),
        ["pre_actions"] = Json(node.PreActions, "[]"),
        ["post_actions"] = Json(node.PostActions, "[]"),
    };

    /// <summary>
    /// Reads a JSON array of nodes into rows (without ids, agent or timestamps). Problems of shape come back per
    /// node and field; the rows of nodes that could be read are returned either way.
    /// </summary>
    public static (List<FlowNode> Nodes, List<FlowProblem> Problems) Read(JsonNode? document)
    {
        var nodes = new List<FlowNode>();
        var problems = new List<FlowProblem>();
        if (document is not JsonArray array)
        {
            problems.Add(new FlowProblem(null, "nodes", "must be a JSON array of nodes"));
            return (nodes, problems);
        }
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject item)
            {
                problems.Add(new FlowProblem(null, $"nodes[{i}]", "must be a JSON object"));
                continue;
            }
            var key = item["node_key"] is JsonValue k && k.TryGetValue<string>(out var s) ? s : null;
            if (string.IsNullOrWhiteSpace(key))
            {
                problems.Add(new FlowProblem(null, $"nodes[{i}].node_key", "every node needs a key"));
                continue;
            }
            var before = problems.Count;
            void Problem(string field, string message) => problems.Add(new FlowProblem(key, field, message));
            if (!NodeKey().IsMatch(key))
            {
                Problem("node_key", "use 1 to 64 letters, digits, '_' or '-'");
            }
            var typeName = item["type"] is JsonValue t && t.TryGetValue<string>(out var ts) ? ts : null;
            FlowNodeType type = default;
            if (typeName is null || !TryType(typeName, out type))
            {
                Problem("type", typeName is null
                    ? "every node needs a type (conversation, say, ask, tool, condition, transfer, end)"
                    : $"'{typeName}' is not a node type (conversation, say, ask, tool, condition, transfer, end)");
            }
            var node = new FlowNode
            {
                NodeKey = key,
                Type = type,
                IsInitial = Bool(item, "is_initial", false, Problem),
                IsTerminal = Bool(item, "is_terminal", false, Problem),
                IsGlobal = Bool(item, "is_global", false, Problem),
                AllowInterrupt = Bool(item, "allow_interrupt", true, Problem),
                Config = Text<JsonObject>(item, "config", "{}", Problem),
                RoleMessages = Text<JsonArray>(item, "role_messages", "[]", Problem),
                TaskMessages = Text<JsonArray>(item, "task_messages", "[]", Problem),
                Functions = Text<JsonArray>(item, "functions", "[]", Problem),
                PreActions = Text<JsonArray>(item, "pre_actions", "[]", Problem),
                PostActions = Text<JsonArray>(item, "post_actions", "[]", Problem),
                ToolIds = Guids(item, "tool_ids", Problem),
                BuiltinTools = Strings(item, "builtin_tools", Problem),
            };
            foreach (var (tool, n) in node.BuiltinTools.Select((b, n) => (b, n)))
            {
                if (!BuiltinTools.Contains(tool))
                {
                    Problem($"builtin_tools[{n}]", $"'{tool}' is not a builtin tool (end_call, transfer_call)");
                }
            }
            if (item["position"] is JsonObject position)
            {
                node.PositionX = Number(position, "x", Problem);
                node.PositionY = Number(position, "y", Problem);
            }
            else if (item["position"] is not null)
            {
                Problem("position", "must be an object {x, y}");
            }
            if (problems.Count == before)
            {
                nodes.Add(node);
            }
        }
        return (nodes, problems);
    }

    /// <summary>Shape problems, then the runtime's own checks (edges, reachability, tools, templates).</summary>
    public static List<FlowProblem> Validate(JsonNode? document, IReadOnlyCollection<Guid> knownTools, out List<FlowNode> nodes)
    {
        var (read, problems) = Read(document);
        nodes = read;
        if (problems.Count == 0)
        {
            problems.AddRange(FlowValidator.Validate([.. read.Select(Agents.AgentRuntimeLoader.ToStored)], knownTools));
        }
        return problems;
    }

    /// <summary>Every tool id a node refers to: node tools, a tool node's tool, pre and post action tools.</summary>
    public static IEnumerable<Guid> ToolIdsOf(FlowNode node)
    {
        foreach (var id in node.ToolIds)
        {
            yield return id;
        }
        foreach (var json in new[] { node.Config, node.PreActions, node.PostActions })
        {
            foreach (var id in ToolIdValues(Json(json, "{}")))
            {
                yield return id;
            }
        }
    }

    private static IEnumerable<Guid> ToolIdValues(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    if (name == "tool_id" && value is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, out var id))
                    {
                        yield return id;
                    }
                    foreach (var inner in ToolIdValues(value))
                    {
                        yield return inner;
                    }
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    foreach (var inner in ToolIdValues(item))
                    {
                        yield return inner;
                    }
                }
                break;
            default:
                break;
        }
    }

    private static bool TryType(string name, out FlowNodeType type)
    {
        try
        {
            type = EnumNames.Parse<FlowNodeType>(name);
            return true;
        }
        catch (FormatException)
        {
            type = default;
            return false;
        }
    }

    private static JsonNode? Json(string text, string empty)
    {
        try
        {
            return JsonNode.Parse(string.IsNullOrWhiteSpace(text) ? empty : text);
        }
        catch (JsonException)
        {
            return JsonNode.Parse(empty);
        }
    }

    private static bool Bool(JsonObject item, string name, bool fallback, Action<string, string> problem)
    {
        switch (item[name])
        {
            case null:
                return fallback;
            case JsonValue v when v.TryGetValue<bool>(out var b):
                return b;
            default:
                problem(name, "must be true or false");
                return fallback;
        }
    }

    private static double Number(JsonObject item, string name, Action<string, string> problem)
    {
        switch (item[name])
        {
            case null:
                return 0;
            case JsonValue v when v.TryGetValue<double>(out var d) && double.IsFinite(d):
                return d;
            default:
                problem($"position.{name}", "must be a number");
                return 0;
        }
    }

    private static string Text<TJson>(JsonObject item, string name, string fallback, Action<string, string> problem) where TJson : JsonNode
    {
        switch (item[name])
        {
            case null:
                return fallback;
            case TJson value:
                return value.ToJsonString();
            default:
                problem(name, typeof(TJson) == typeof(JsonObject) ? "must be a JSON object" : "must be a JSON array");
                return fallback;
        }
    }

    private static List<Guid> Guids(JsonObject item, string name, Action<string, string> problem)
    {
        var result = new List<Guid>();
        if (item[name] is null)
        {
            return result;
        }
        if (item[name] is not JsonArray array)
        {
            problem(name, "must be an array of tool ids");
            return result;
        }
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, CultureInfo.InvariantCulture, out var id))
            {
                result.Add(id);
            }
            else
            {
                problem($"{name}[{i}]", "is not a tool id (a UUID)");
            }
        }
        return result;
    }

    private static List<string> Strings(JsonObject item, string name, Action<string, string> problem)
    {
        var result = new List<string>();
        if (item[name] is null)
        {
            return result;
        }
        if (item[name] is not JsonArray array)
        {
            problem(name, "must be an array of strings");
            return result;
        }
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonValue v && v.TryGetValue<string>(out var s))
            {
                result.Add(s);
            }
            else
            {
                problem($"{name}[{i}]", "must be a string");
            }
        }
        return result;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NodeKey();
}
