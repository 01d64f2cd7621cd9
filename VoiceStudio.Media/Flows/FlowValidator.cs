namespace VoiceStudio.Media.Flows;

/// <summary>One problem with a flow, named by node and field so an editor can put it where it belongs.</summary>
public sealed record FlowProblem(string? Node, string Field, string Message);

/// <summary>
/// The checks a flow passes before it is saved (SPEC §7): readable nodes, unique keys, exactly one initial node,
/// every edge resolves, every node reachable from the initial node (global nodes count as reachable), a terminal
/// node (end, transfer or marked terminal) reachable, every tool id known, every template parses.
/// </summary>
public static class FlowValidator
{
    public static IReadOnlyList<FlowProblem> Validate(IReadOnlyList<StoredNode> stored, IReadOnlyCollection<Guid> knownTools)
    {
        var problems = new List<FlowProblem>();
        var nodes = new List<FlowNode>();
        foreach (var (node, index) in stored.Select((n, i) => (n, i)))
        {
            if (string.IsNullOrWhiteSpace(node.Key))
            {
                problems.Add(new FlowProblem(null, $"nodes[{index}].node_key", "every node needs a key"));
                continue;
            }
            try
            {
                nodes.Add(FlowJson.Parse(node));
            }
            catch (FlowFormatException e)
            {
                problems.Add(new FlowProblem(e.Node, e.Field, e.Problem));
            }
        }
        foreach (var duplicate in stored.GroupBy(n => n.Key, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add(new FlowProblem(duplicate.Key, "node_key", $"{duplicate.Count()} nodes share the key '{duplicate.Key}'"));
        }
        if (stored.Count == 0)
        {
            return problems; // an agent without nodes is freeform
        }
        var initial = stored.Where(n => n.IsInitial).ToList();
        if (initial.Count != 1)
        {
            problems.Add(new FlowProblem(null, "is_initial", initial.Count == 0
                ? "the flow needs an initial node"
                : $"only one node may be initial ({string.Join(", ", initial.Select(n => n.Key))} are)"));
        }
        var keys = nodes.Select(n => n.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var (field, target) in node.Edges)
            {
                if (string.IsNullOrEmpty(target))
                {
                    problems.Add(new FlowProblem(node.Key, field, "must name the node to go to"));
                }
                else if (!keys.Contains(target))
                {
                    problems.Add(new FlowProblem(node.Key, field, $"goes to '{target}', which is not a node of this flow"));
                }
            }
            foreach (var (field, id) in ToolIds(node))
            {
                if (!knownTools.Contains(id))
                {
                    problems.Add(new FlowProblem(node.Key, field, $"tool {id} does not exist"));
                }
            }
            foreach (var (field, text) in TemplatesOf(node))
            {
                if (Templates.Check(text) is { } error)
                {
                    problems.Add(new FlowProblem(node.Key, field, $"template does not parse: {error}"));
                }
            }
            CheckOwnShape(node, problems);
        }
        if (nodes.Count == stored.Count && nodes.FirstOrDefault(n => n.IsInitial) is { } start)
        {
            var byKey = nodes.ToDictionary(n => n.Key, StringComparer.Ordinal);
            var reached = Reach([start, .. nodes.Where(n => n.Global is not null)], byKey);
            foreach (var node in nodes.Where(n => !reached.Contains(n.Key)))
            {
                problems.Add(new FlowProblem(node.Key, "node_key", "cannot be reached from the initial node"));
            }
            if (!reached.Any(k => IsTerminal(byKey[k])))
            {
                problems.Add(new FlowProblem(null, "nodes", "no end, transfer or terminal node can be reached: calls would never finish"));
            }
        }
        return problems;
    }

    private static HashSet<string> Reach(IEnumerable<FlowNode> starts, Dictionary<string, FlowNode> byKey)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<FlowNode>(starts);
        while (queue.TryDequeue(out var node))
        {
            if (!reached.Add(node.Key))
            {
                continue;
            }
            foreach (var (_, target) in node.Edges)
            {
                if (byKey.TryGetValue(target, out var next))
                {
                    queue.Enqueue(next);
                }
            }
        }
        return reached;
    }

    private static bool IsTerminal(FlowNode node) =>
        node.IsTerminal || node is EndNode or TransferNode || node is ConversationNode c && c.BuiltinTools.Contains("end_call");

    private static void CheckOwnShape(FlowNode node, List<FlowProblem> problems)
    {
        switch (node)
        {
            case AskNode ask when ask.Intents.Count == 0 && ask.Captures.Count == 0:
                problems.Add(new FlowProblem(node.Key, "config.intents", "an ask node needs at least one intent or capture"));
                break;
            case AskNode ask when ask.Captures.Count > 0 && string.IsNullOrEmpty(ask.Next):
                problems.Add(new FlowProblem(node.Key, "config.next_node_key", "where to go once the captures have values"));
                break;
            case AskNode ask when string.IsNullOrWhiteSpace(ask.Prompt):
                problems.Add(new FlowProblem(node.Key, "config.prompt", "an ask node needs a prompt"));
                break;
            case SayNode say when string.IsNullOrWhiteSpace(say.Text):
                problems.Add(new FlowProblem(node.Key, "config.text", "a say node needs text"));
                break;
            case SayNode say when say.Next is null && !say.IsTerminal && say.Global is null:
                problems.Add(new FlowProblem(node.Key, "config.next_node_key", "a say node needs a next node (or mark it terminal)"));
                break;
            case ToolNode tool when tool.OnSuccess is null:
                problems.Add(new FlowProblem(node.Key, "config.on_success_node_key", "a tool node needs a next node for success"));
                break;
            case TransferNode transfer when string.IsNullOrWhiteSpace(transfer.Number):
                problems.Add(new FlowProblem(node.Key, "config.number", "a transfer node needs a number"));
                break;
            case ConversationNode conversation:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (function, i) in conversation.Functions.Select((f, i) => (f, i)))
                {
                    if (!IsFunctionName(function.Name))
                    {
                        problems.Add(new FlowProblem(node.Key, $"functions[{i}].name", $"'{function.Name}' is not a function name: 1 to 64 letters, digits, '_' or '-'"));
                    }
                    else if (function.Name is "end_call" or "transfer_call" || !seen.Add(function.Name))
                    {
                        problems.Add(new FlowProblem(node.Key, $"functions[{i}].name", $"another function of this node is already called '{function.Name}'"));
                    }
                    if (function.Parameters is { } parameters && !parameters.TrimStart().StartsWith('{'))
                    {
                        problems.Add(new FlowProblem(node.Key, $"functions[{i}].parameters", "must be a JSON Schema object"));
                    }
                }
                foreach (var (builtin, i) in conversation.BuiltinTools.Select((b, i) => (b, i)))
                {
                    if (builtin is not ("end_call" or "transfer_call"))
                    {
                        problems.Add(new FlowProblem(node.Key, $"builtin_tools[{i}]", $"'{builtin}' is not a builtin tool (end_call, transfer_call)"));
                    }
                }
                break;
            case ConditionNode condition when condition.Branches.Count == 0:
                problems.Add(new FlowProblem(node.Key, "config.branches", "a condition node needs at least one branch"));
                break;
            default:
                break;
        }
    }

    private static bool IsFunctionName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static IEnumerable<(string Field, Guid Id)> ToolIds(FlowNode node)
    {
        if (node is ToolNode tool)
        {
            yield return ("config.tool_id", tool.ToolId);
        }
        if (node is ConversationNode conversation)
        {
            foreach (var (id, i) in conversation.ToolIds.Select((id, i) => (id, i)))
            {
                yield return ($"tool_ids[{i}]", id);
            }
        }
        foreach (var (action, i) in node.PreActions.Select((a, i) => (a, i)))
        {
            if (action.ToolId is { } id)
            {
                yield return ($"pre_actions[{i}].tool_id", id);
            }
        }
        foreach (var (action, i) in node.PostActions.Select((a, i) => (a, i)))
        {
            if (action.ToolId is { } id)
            {
                yield return ($"post_actions[{i}].tool_id", id);
            }
        }
    }

    private static IEnumerable<(string Field, string Text)> TemplatesOf(FlowNode node)
    {
        switch (node)
        {
            case SayNode say:
                yield return ("config.text", say.Text);
                break;
            case AskNode ask:
                yield return ("config.prompt", ask.Prompt);
                if (ask.NoMatch.Reprompt is { } noMatch)
                {
                    yield return ("config.no_match.reprompt", noMatch);
                }
                if (ask.NoInput.Reprompt is { } noInput)
                {
                    yield return ("config.no_input.reprompt", noInput);
                }
                break;
            case EndNode { Text: { } text }:
                yield return ("config.text", text);
                break;
            case TransferNode transfer:
                yield return ("config.number", transfer.Number);
                if (transfer.Message is { } message)
                {
                    yield return ("config.message", message);
                }
                break;
            case ToolNode tool:
                foreach (var (name, value) in tool.Arguments)
                {
                    if (value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s))
                    {
                        yield return ($"config.arguments.{name}", s);
                    }
                }
                break;
            case ConversationNode conversation:
                foreach (var (role, i) in conversation.RoleMessages.Select((m, i) => (m, i)))
                {
                    yield return ($"role_messages[{i}].content", role.Content);
                }
                foreach (var (task, i) in conversation.TaskMessages.Select((m, i) => (m, i)))
                {
                    yield return ($"task_messages[{i}].content", task.Content);
                }
                break;
            default:
                break;
        }
    }
}
