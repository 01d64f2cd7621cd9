using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VoiceStudio.Media.Flows;

namespace VoiceStudio.Web.Features.Flows;

/// <summary>A node type as the designer's palette shows it; the icon is a Material icon's SVG content (24×24).</summary>
public sealed record NodeKind(string Type, string Label, string Icon, string Description);

/// <summary>An output of a node: where the flow goes on one intent, branch, result or function.</summary>
public sealed record NodePort(string Id, string Label, string Field, string? Target);

/// <summary>
/// The flow being designed: the nodes in the flow document's format (as <c>PUT /api/agents/{agent}/flow</c> takes
/// them), with the edits the canvas makes (add, move, connect, delete, rename, copy/paste) and undo/redo. Edges are
/// not stored apart: each is a node's <c>…next_node_key</c> field, so the canvas and the runtime cannot disagree.
/// </summary>
public sealed partial class FlowDesign
{
    public static readonly IReadOnlyList<NodeKind> Kinds =
    [
        new("say", "Say something", MudBlazor.Icons.Material.Filled.Campaign, "Speaks a message, then goes on"),
        new("ask", "Ask a question", MudBlazor.Icons.Material.Filled.QuestionAnswer, "Asks, listens, and routes by answer, keypad digit or captured value"),
        new("conversation", "AI conversation", MudBlazor.Icons.Material.Filled.SmartToy, "The language model talks until one of its functions moves on"),
        new("tool", "Call a tool", MudBlazor.Icons.Material.Filled.Build, "Calls an HTTP tool, keeps the answer, branches on success or failure"),
        new("condition", "Check a condition", MudBlazor.Icons.Material.Filled.CallSplit, "Branches on the values of variables"),
        new("transfer", "Transfer the call", MudBlazor.Icons.Material.Filled.PhoneForwarded, "Hands the call to a phone number"),
        new("end", "End the call", MudBlazor.Icons.Material.Filled.CallEnd, "Says goodbye and hangs up"),
    ];

    private const int HistoryLimit = 200;
    private readonly List<string> _undo = [];
    private readonly List<string> _redo = [];

    public FlowDesign(JsonArray document)
    {
        Nodes = [.. document.OfType<JsonObject>().Select(n => (JsonObject)n.DeepClone())];
    }

    public List<JsonObject> Nodes { get; private set; }

    public bool CanUndo => _undo.Count > 0;
    public bool CanRedo => _redo.Count > 0;

    public JsonArray ToDocument() => [.. Nodes.Select(n => n.DeepClone())];

    public JsonObject? Find(string key) => Nodes.FirstOrDefault(n => KeyOf(n) == key);

    public static string KeyOf(JsonObject node) => node["node_key"]?.GetValue<string>() ?? "";

    public static string TypeOf(JsonObject node) => node["type"]?.GetValue<string>() ?? "";

    private string? _coalescing;

    /// <summary>Remembers the flow as it is now, so the next edit can be undone. Call before every edit.</summary>
    public void Checkpoint()
    {
        _coalescing = null;
        _undo.Add(ToDocument().ToJsonString());
        if (_undo.Count > HistoryLimit)
        {
            _undo.RemoveAt(0);
        }
        _redo.Clear();
    }

    /// <summary>
    /// Puts an edited copy of a node in place of the node. A run of edits to the same field (typing) is one undo step:
    /// only the first of them checkpoints.
    /// </summary>
    public bool Replace(string key, JsonObject edited, string field)
    {
        var index = Nodes.FindIndex(n => KeyOf(n) == key);
        if (index < 0)
        {
            return false;
        }
        var run = $"{key}|{field}";
        if (_coalescing != run)
        {
            Checkpoint();
        }
        _coalescing = run;
        var copy = (JsonObject)edited.DeepClone();
        copy["node_key"] = key;
        Nodes[index] = copy;
        return true;
    }

    public bool Undo() => Step(_undo, _redo);

    public bool Redo() => Step(_redo, _undo);

    private bool Step(List<string> from, List<string> to)
    {
        _coalescing = null;
        if (from.Count == 0)
        {
            return false;
        }
        to.Add(ToDocument().ToJsonString());
        Nodes = [.. JsonNode.Parse(from[^1])!.AsArray().OfType<JsonObject>()];
        from.RemoveAt(from.Count - 1);
        return true;
    }

    /// <summary>Adds a node of <paramref name="type"/> with a fresh key and the fields a designer fills first.</summary>
    public JsonObject Add(string type, double x, double y)
    {
        if (Kinds.All(k => k.Type != type))
        {
            throw new ArgumentException($"'{type}' is not a node type", nameof(type));
        }
        Checkpoint();
        var node = new JsonObject
        {
            ["node_key"] = FreeKey(type),
            ["type"] = type,
            ["is_initial"] = Nodes.Count == 0,
            ["is_terminal"] = false,
            ["is_global"] = false,
            ["allow_interrupt"] = true,
            ["position"] = new JsonObject { ["x"] = x, ["y"] = y },
            ["config"] = DefaultConfig(type),
            ["role_messages"] = new JsonArray(),
            ["task_messages"] = new JsonArray(),
            ["functions"] = new JsonArray(),
            ["tool_ids"] = new JsonArray(),
            ["builtin_tools"] = new JsonArray(),
            ["pre_actions"] = new JsonArray(),
            ["post_actions"] = new JsonArray(),
        };
        if (type == "conversation")
        {
            node["task_messages"] = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = "" });
            node["functions"] = new JsonArray(new JsonObject
            {
                ["name"] = "done",
                ["description"] = "Call when this part of the conversation is finished",
                ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
                ["next_node_key"] = null,
            });
        }
        Nodes.Add(node);
        return node;
    }

    private static JsonObject DefaultConfig(string type) => type switch
    {
        "say" => new JsonObject { ["text"] = "", ["next_node_key"] = null },
        "ask" => new JsonObject
        {
            ["prompt"] = "",
            ["intents"] = new JsonArray(new JsonObject { ["name"] = "yes", ["phrases"] = new JsonArray("yes", "sure"), ["next_node_key"] = null }),
            ["captures"] = new JsonArray(),
            ["no_match"] = new JsonObject { ["reprompt"] = "Sorry, I did not get that.", ["max"] = 2 },
            ["no_input"] = new JsonObject { ["reprompt"] = "Are you still there?", ["max"] = 2 },
            ["fallback_node_key"] = null,
        },
        "tool" => new JsonObject { ["tool_id"] = null, ["arguments"] = new JsonObject(), ["result_variables"] = new JsonObject(), ["on_success_node_key"] = null, ["on_failure_node_key"] = null },
        "condition" => new JsonObject
        {
            ["branches"] = new JsonArray(new JsonObject
            {
                ["match"] = "all",
                ["rules"] = new JsonArray(new JsonObject { ["variable"] = "", ["operator"] = "equals", ["value"] = "" }),
                ["next_node_key"] = null,
            }),
            ["else_node_key"] = null,
        },
        "transfer" => new JsonObject { ["number"] = "", ["message"] = "Transferring you now." },
        "end" => new JsonObject { ["text"] = "Thank you for calling. Goodbye!" },
        _ => new JsonObject { ["context_strategy"] = "append", ["respond_immediately"] = true },
    };

    private string FreeKey(string stem)
    {
        for (var i = 1; ; i++)
        {
            var key = $"{stem}_{i}";
            if (Find(key) is null)
            {
                return key;
            }
        }
    }

    /// <summary>The node's outputs in the order the canvas draws them, each with the node it goes to (null: not connected).</summary>
    public static List<NodePort> PortsOf(JsonObject node)
    {
        var config = node["config"] as JsonObject ?? [];
        var ports = new List<NodePort>();
        string? Target(JsonNode? holder, string field) => holder?[field] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        void List(JsonNode? items, string prefix, string field, string path, Func<JsonObject, int, string> label)
        {
            if (items is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonObject item)
                    {
                        ports.Add(new NodePort($"{prefix}-{i}", label(item, i), $"{path}[{i}].{field}", Target(item, field)));
                    }
                }
            }
        }
        switch (TypeOf(node))
        {
            case "say":
                ports.Add(new NodePort("next", "then", "config.next_node_key", Target(config, "next_node_key")));
                break;
            case "ask":
                List(config["intents"], "intent", "next_node_key", "config.intents", (o, i) =>
                    $"{o["name"] ?? $"intent {i + 1}"}{(o["dtmf"] is JsonValue d && d.ToString().Length > 0 ? $" · key {d}" : "")}");
                if (config["captures"] is JsonArray { Count: > 0 } captures)
                {
                    var names = string.Join(", ", captures.OfType<JsonObject>().Select(c => c["variable"]?.ToString()).Where(v => !string.IsNullOrEmpty(v)));
                    ports.Add(new NodePort("next", $"got {(names.Length > 0 ? names : "the answer")}", "config.next_node_key", Target(config, "next_node_key")));
                }
                ports.Add(new NodePort("fallback", "no match", "config.fallback_node_key", Target(config, "fallback_node_key")));
                break;
            case "tool":
                ports.Add(new NodePort("success", "success", "config.on_success_node_key", Target(config, "on_success_node_key")));
                ports.Add(new NodePort("failure", "failure", "config.on_failure_node_key", Target(config, "on_failure_node_key")));
                break;
            case "condition":
                List(config["branches"], "branch", "next_node_key", "config.branches", (o, i) => BranchLabel(o, i));
                ports.Add(new NodePort("else", "otherwise", "config.else_node_key", Target(config, "else_node_key")));
                break;
            case "conversation":
                List(node["functions"], "function", "next_node_key", "functions", (o, i) => $"{o["name"] ?? $"function {i + 1}"}()");
                break;
        }
        return ports;
    }

    private static string BranchLabel(JsonObject branch, int i)
    {
        var rules = (branch["rules"] as JsonArray)?.OfType<JsonObject>().Select(r =>
            $"{r["variable"]} {r["operator"]?.ToString().Replace('_', ' ')} {r["value"]}".Trim()).Where(t => t.Length > 0).ToList() ?? [];
        var text = rules.Count == 0 ? $"branch {i + 1}" : string.Join(branch["match"]?.ToString() == "any" ? " or " : " and ", rules);
        return text.Length > 40 ? text[..39] + "…" : text;
    }

    /// <summary>The JSON object and field name that hold a port's target.</summary>
    private static (JsonObject Holder, string Field)? Slot(JsonObject node, string portId)
    {
        var config = node["config"] as JsonObject;
        var dash = portId.IndexOf('-', StringComparison.Ordinal);
        var (kind, index) = dash < 0 ? (portId, -1) : (portId[..dash], int.TryParse(portId[(dash + 1)..], out var i) ? i : -1);
        JsonObject? Item(JsonNode? list) => index >= 0 && list is JsonArray a && index < a.Count ? a[index] as JsonObject : null;
        return kind switch
        {
            "next" when config is not null => (config, "next_node_key"),
            "fallback" when config is not null => (config, "fallback_node_key"),
            "success" when config is not null => (config, "on_success_node_key"),
            "failure" when config is not null => (config, "on_failure_node_key"),
            "else" when config is not null => (config, "else_node_key"),
            "intent" when Item(config?["intents"]) is { } o => (o, "next_node_key"),
            "branch" when Item(config?["branches"]) is { } o => (o, "next_node_key"),
            "function" when Item(node["functions"]) is { } o => (o, "next_node_key"),
            _ => null,
        };
    }

    /// <summary>Points <paramref name="portId"/> of <paramref name="source"/> at <paramref name="target"/>; false when either does not exist.</summary>
    public bool Connect(string source, string portId, string target)
    {
        if (Find(source) is not { } node || Find(target) is null || Slot(node, portId) is not var (holder, field))
        {
            return false;
        }
        Checkpoint();
        holder[field] = target;
        return true;
    }

    /// <summary>Edge ids are <c>source:port</c>; cutting one leaves the port unconnected.</summary>
    public static string EdgeId(string source, string portId) => $"{source}:{portId}";

    /// <summary>Deletes the nodes and edges; edges into deleted nodes are cut too. The first node left becomes initial if the initial one went.</summary>
    public void Delete(IReadOnlyCollection<string> nodeKeys, IReadOnlyCollection<string> edgeIds)
    {
        if (nodeKeys.Count == 0 && edgeIds.Count == 0)
        {
            return;
        }
        Checkpoint();
        foreach (var edge in edgeIds)
        {
            var colon = edge.LastIndexOf(':');
            if (colon > 0 && Find(edge[..colon]) is { } node && Slot(node, edge[(colon + 1)..]) is var (holder, field))
            {
                holder[field] = null;
            }
        }
        var hadInitial = Nodes.Any(n => n["is_initial"]?.GetValue<bool>() == true);
        Nodes.RemoveAll(n => nodeKeys.Contains(KeyOf(n)));
        foreach (var node in Nodes)
        {
            foreach (var port in PortsOf(node).Where(p => p.Target is not null && nodeKeys.Contains(p.Target)))
            {
                if (Slot(node, port.Id) is var (holder, field))
                {
                    holder[field] = null;
                }
            }
        }
        if (hadInitial && Nodes.Count > 0 && Nodes.All(n => n["is_initial"]?.GetValue<bool>() != true))
        {
            Nodes[0]["is_initial"] = true;
        }
    }

    /// <summary>Moves nodes (no checkpoint for each: a drag is one step, recorded by the caller).</summary>
    public void Move(IEnumerable<(string Key, double X, double Y)> moves)
    {
        Checkpoint();
        foreach (var (key, x, y) in moves)
        {
            if (Find(key) is { } node)
            {
                node["position"] = new JsonObject { ["x"] = x, ["y"] = y };
            }
        }
    }

    /// <summary>Renames a node and every reference to it; the problem when the new key is taken or not a key.</summary>
    public string? Rename(string key, string newKey)
    {
        newKey = newKey.Trim();
        if (newKey == key)
        {
            return null;
        }
        if (!KeyPattern().IsMatch(newKey))
        {
            return "use 1 to 64 letters, digits, '_' or '-'";
        }
        if (Find(newKey) is not null)
        {
            return $"'{newKey}' is already a node";
        }
        if (Find(key) is not { } renamed)
        {
            return $"'{key}' is not a node";
        }
        Checkpoint();
        renamed["node_key"] = newKey;
        foreach (var node in Nodes)
        {
            foreach (var port in PortsOf(node).Where(p => p.Target == key))
            {
                if (Slot(node, port.Id) is var (holder, field))
                {
                    holder[field] = newKey;
                }
            }
        }
        return null;
    }

    /// <summary>The nodes as a clipboard document: edges between copied nodes are kept, edges leaving the copy are cut.</summary>
    public JsonArray Copy(IReadOnlyCollection<string> keys)
    {
        var copied = new JsonArray([.. Nodes.Where(n => keys.Contains(KeyOf(n))).Select(n => n.DeepClone())]);
        foreach (var node in copied.OfType<JsonObject>())
        {
            foreach (var port in PortsOf(node).Where(p => p.Target is not null && !keys.Contains(p.Target)))
            {
                if (Slot(node, port.Id) is var (holder, field))
                {
                    holder[field] = null;
                }
            }
        }
        return copied;
    }

    /// <summary>Adds copies of the clipboard's nodes with fresh keys, shifted by (dx, dy); returns the new keys.</summary>
    public List<string> Paste(JsonArray clipboard, double dx, double dy)
    {
        var incoming = clipboard.OfType<JsonObject>().Select(n => (JsonObject)n.DeepClone()).ToList();
        if (incoming.Count == 0)
        {
            return [];
        }
        Checkpoint();
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in incoming)
        {
            var old = KeyOf(node);
            var stem = CopySuffix().Replace(old, "");
            var fresh = $"{stem}_copy";
            for (var i = 2; Find(fresh) is not null || renames.ContainsValue(fresh); i++)
            {
                fresh = $"{stem}_copy{i}";
            }
            renames[old] = fresh[..Math.Min(fresh.Length, 64)];
        }
        foreach (var node in incoming)
        {
            node["node_key"] = renames[KeyOf(node)];
            node["is_initial"] = false;
            if (node["position"] is JsonObject p)
            {
                node["position"] = new JsonObject { ["x"] = (p["x"]?.GetValue<double>() ?? 0) + dx, ["y"] = (p["y"]?.GetValue<double>() ?? 0) + dy };
            }
            foreach (var port in PortsOf(node).Where(p => p.Target is not null))
            {
                if (Slot(node, port.Id) is var (holder, field))
                {
                    holder[field] = renames.GetValueOrDefault(port.Target!);
                }
            }
            Nodes.Add(node);
        }
        return [.. renames.Values];
    }

    /// <summary>Makes <paramref name="key"/> the node calls start at.</summary>
    public void MakeInitial(string key)
    {
        Checkpoint();
        foreach (var node in Nodes)
        {
            node["is_initial"] = KeyOf(node) == key;
        }
    }

    /// <summary>
    /// What the canvas draws: nodes with their ports and problems, edges that resolve, and the run being tested
    /// (the active node, the nodes and edges taken so far).
    /// </summary>
    public JsonObject View(IReadOnlyList<FlowProblem> problems, string? active, IReadOnlyList<string> visited)
    {
        var nodes = new JsonArray();
        var edges = new JsonArray();
        var path = new JsonArray();
        for (var i = 1; i < visited.Count; i++)
        {
            if (Find(visited[i - 1]) is { } from && PortsOf(from).FirstOrDefault(p => p.Target == visited[i]) is { } taken)
            {
                path.Add(EdgeId(visited[i - 1], taken.Id));
            }
        }
        foreach (var node in Nodes)
        {
            var key = KeyOf(node);
            var type = TypeOf(node);
            var kind = Kinds.FirstOrDefault(k => k.Type == type);
            var own = problems.Where(p => p.Node == key).ToList();
            var ports = new JsonArray();
            foreach (var port in PortsOf(node))
            {
                var problem = own.FirstOrDefault(p => p.Field == port.Field)?.Message
                    ?? (port.Target is null && type != "ask" ? "not connected" : null);
                ports.Add(new JsonObject { ["id"] = port.Id, ["label"] = port.Label, ["problem"] = problem });
                if (port.Target is not null && Find(port.Target) is not null)
                {
                    edges.Add(new JsonObject { ["id"] = EdgeId(key, port.Id), ["source"] = key, ["port"] = port.Id, ["target"] = port.Target, ["label"] = null });
                }
            }
            var position = node["position"] as JsonObject;
            nodes.Add(new JsonObject
            {
                ["key"] = key,
                ["type"] = type,
                ["typeLabel"] = kind?.Label ?? type,
                ["icon"] = kind?.Icon ?? "",
                ["summary"] = Summary(node),
                ["initial"] = node["is_initial"]?.GetValue<bool>() == true,
                ["global"] = node["is_global"]?.GetValue<bool>() == true,
                ["x"] = position?["x"]?.GetValue<double>() ?? 0,
                ["y"] = position?["y"]?.GetValue<double>() ?? 0,
                ["ports"] = ports,
                ["problems"] = new JsonArray([.. own.Select(p => (JsonNode)$"{p.Field}: {p.Message}")]),
            });
        }
        var unplaced = problems.Where(p => p.Node is null || Find(p.Node) is null).Select(p => (JsonNode)$"{p.Field}: {p.Message}");
        return new JsonObject
        {
            ["nodes"] = nodes,
            ["edges"] = edges,
            ["active"] = active,
            ["visited"] = new JsonArray([.. visited.Distinct().Select(v => (JsonNode)v)]),
            ["path"] = path,
            ["flowProblems"] = new JsonArray([.. unplaced]),
        };
    }

    /// <summary>A line of what the node says or does, for the canvas.</summary>
    public static string Summary(JsonObject node)
    {
        var config = node["config"] as JsonObject ?? [];
        var text = TypeOf(node) switch
        {
            "say" or "end" => config["text"]?.ToString(),
            "ask" => config["prompt"]?.ToString(),
            "transfer" => $"to {config["number"]}",
            "conversation" => (node["task_messages"] as JsonArray)?.OfType<JsonObject>().Select(m => m["content"]?.ToString()).FirstOrDefault(),
            "tool" => config["tool_id"] is null ? "no tool chosen" : null,
            _ => null,
        };
        return text is { Length: > 90 } ? text[..89] + "…" : text ?? "";
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("_copy[0-9]*$")]
    private static partial Regex CopySuffix();
}

/// <summary>Starting points for a new flow; they run on the embedded speech (no language model needed).</summary>
public static class FlowTemplates
{
    public sealed record Template(string Id, string Name, string Description, JsonArray Nodes);

    public static IReadOnlyList<Template> All { get; } = Load();

    private static List<Template> Load()
    {
        var assembly = typeof(FlowTemplates).Assembly;
        return [.. assembly.GetManifestResourceNames().Where(n => n.Contains(".Flows.Templates.", StringComparison.Ordinal)).Order().Select(name =>
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            var document = JsonNode.Parse(stream)!.AsObject();
            var id = name.Split(".Templates.")[1].Replace(".json", "", StringComparison.Ordinal);
            return new Template(id, document["name"]!.GetValue<string>(), document["description"]!.GetValue<string>(), document["nodes"]!.AsArray());
        })];
    }
}
