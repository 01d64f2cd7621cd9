using System.Text.Json;
using System.Text.Json.Nodes;

namespace VoiceStudio.Media.Flows;

/// <summary>The stored form of one node: the columns of a flow node row, with its per-type fields as JSON.</summary>
public sealed record StoredNode
{
    public required string Key { get; init; }
    /// <summary>conversation, say, ask, tool, condition, transfer or end.</summary>
    public required string Type { get; init; }
    public bool IsInitial { get; init; }
    public bool IsTerminal { get; init; }
    public bool IsGlobal { get; init; }
    public bool AllowInterrupt { get; init; } = true;
    public string Config { get; init; } = "{}";
    public string RoleMessages { get; init; } = "[]";
    public string TaskMessages { get; init; } = "[]";
    public string Functions { get; init; } = "[]";
    public IReadOnlyList<Guid> ToolIds { get; init; } = [];
    public IReadOnlyList<string> BuiltinTools { get; init; } = [];
    public string PreActions { get; init; } = "[]";
    public string PostActions { get; init; } = "[]";
}

/// <summary>A node whose stored fields cannot be read; names the node and the field.</summary>
public sealed class FlowFormatException(string node, string field, string message) : Exception($"{node}.{field}: {message}")
{
    public string Node { get; } = node;
    public string Field { get; } = field;
    public string Problem { get; } = message;
}

/// <summary>Reads stored nodes (snake_case JSON per SPEC §7) into the runtime's records.</summary>
public static class FlowJson
{
    public static FlowDefinition Parse(IEnumerable<StoredNode> nodes) => new(nodes.Select(Parse).ToList());

    public static FlowNode Parse(StoredNode stored)
    {
        var reader = new Reader(stored.Key);
        var config = reader.Object(stored.Config, "config");
        FlowNode node = stored.Type switch
        {
            "say" => new SayNode
            {
                Key = stored.Key,
                Text = reader.String(config, "text") ?? "",
                Next = reader.String(config, "next_node_key"),
            },
            "ask" => new AskNode
            {
                Key = stored.Key,
                Prompt = reader.String(config, "prompt") ?? "",
                Intents = reader.Array(config, "intents").Select((item, i) => reader.Intent(item, $"intents[{i}]")).ToList(),
                Captures = reader.Array(config, "captures").Select((item, i) => reader.Capture(item, $"captures[{i}]")).ToList(),
                Next = reader.String(config, "next_node_key"),
                NoMatch = reader.Retry(config, "no_match"),
                NoInput = reader.Retry(config, "no_input"),
                Fallback = reader.String(config, "fallback_node_key"),
                MatchThreshold = reader.Int(config, "match_threshold") ?? 80,
            },
            "tool" => new ToolNode
            {
                Key = stored.Key,
                ToolId = reader.Guid(config, "tool_id") ?? throw reader.Error("config.tool_id", "a tool node needs a tool_id"),
                Arguments = reader.JsonObject(config, "arguments"),
                ResultVariables = reader.StringMap(config, "result_variables"),
                OnSuccess = reader.String(config, "on_success_node_key"),
                OnFailure = reader.String(config, "on_failure_node_key"),
            },
            "condition" => new ConditionNode
            {
                Key = stored.Key,
                Branches = reader.Array(config, "branches").Select((item, i) => reader.Branch(item, $"branches[{i}]")).ToList(),
                Else = reader.String(config, "else_node_key"),
            },
            "transfer" => new TransferNode
            {
                Key = stored.Key,
                Number = reader.String(config, "number") ?? "",
                Message = reader.String(config, "message"),
            },
            "end" => new EndNode { Key = stored.Key, Text = reader.String(config, "text") },
            "conversation" => new ConversationNode
            {
                Key = stored.Key,
                RoleMessages = reader.Messages(stored.RoleMessages, "role_messages"),
                TaskMessages = reader.Messages(stored.TaskMessages, "task_messages"),
                Functions = reader.Functions(stored.Functions),
                ToolIds = stored.ToolIds,
                BuiltinTools = stored.BuiltinTools,
                Context = reader.String(config, "context_strategy") switch
                {
                    null or "append" => ContextStrategy.Append,
                    "reset" => ContextStrategy.Reset,
                    "reset_with_summary" => ContextStrategy.ResetWithSummary,
                    var other => throw reader.Error("config.context_strategy", $"'{other}' is not append, reset or reset_with_summary"),
                },
                RespondImmediately = reader.Bool(config, "respond_immediately") ?? true,
                TransferNumber = reader.String(config, "transfer_number"),
            },
            _ => throw reader.Error("type", $"'{stored.Type}' is not a node type (conversation, say, ask, tool, condition, transfer, end)"),
        };
        return node with
        {
            IsInitial = stored.IsInitial,
            IsTerminal = stored.IsTerminal,
            AllowInterrupt = stored.AllowInterrupt,
            Global = stored.IsGlobal ? reader.Trigger(config) : null,
            PreActions = reader.Actions(stored.PreActions, "pre_actions"),
            PostActions = reader.Actions(stored.PostActions, "post_actions"),
        };
    }

    private sealed class Reader(string node)
    {
        public FlowFormatException Error(string field, string message) => new(node, field, message);

        public JsonObject Object(string json, string field)
        {
            try
            {
                return JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json) as JsonObject ?? throw Error(field, "must be a JSON object");
            }
            catch (JsonException e)
            {
                throw Error(field, $"is not valid JSON ({e.Message})");
            }
        }

        private JsonArray ArrayOf(string json, string field)
        {
            try
            {
                return JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json) as JsonArray ?? throw Error(field, "must be a JSON array");
            }
            catch (JsonException e)
            {
                throw Error(field, $"is not valid JSON ({e.Message})");
            }
        }

        public string? String(JsonObject o, string name, string? path = null)
        {
            var value = o[name];
            if (value is null)
            {
                return null;
            }
            if (value is JsonValue v && v.TryGetValue<string>(out var s))
            {
                return s;
            }
            throw Error(path ?? $"config.{name}", "must be a string");
        }

        public bool? Bool(JsonObject o, string name) => o[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            _ => throw Error($"config.{name}", "must be true or false"),
        };

        public int? Int(JsonObject o, string name, string? path = null)
        {
            var value = o[name];
            if (value is null)
            {
                return null;
            }
            if (value is JsonValue v && v.TryGetValue<int>(out var i))
            {
                return i;
            }
            throw Error(path ?? $"config.{name}", "must be a whole number");
        }

        public Guid? Guid(JsonObject o, string name)
        {
            var text = String(o, name);
            if (text is null)
            {
                return null;
            }
            return System.Guid.TryParse(text, out var id) ? id : throw Error($"config.{name}", $"'{text}' is not a tool id");
        }

        public List<JsonObject> Array(JsonObject o, string name, string? path = null)
        {
            var value = o[name];
            if (value is null)
            {
                return [];
            }
            if (value is not JsonArray array)
            {
                throw Error(path ?? $"config.{name}", "must be a list");
            }
            return array.Select((item, i) => item as JsonObject ?? throw Error($"{path ?? $"config.{name}"}[{i}]", "must be an object")).ToList();
        }

        public List<string> Strings(JsonObject o, string name, string path)
        {
            var value = o[name];
            if (value is null)
            {
                return [];
            }
            if (value is JsonValue single && single.TryGetValue<string>(out var one))
            {
                return [one];
            }
            if (value is not JsonArray array)
            {
                throw Error(path, "must be a list of strings");
            }
            return array.Select((item, i) => item is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Error($"{path}[{i}]", "must be a string")).ToList();
        }

        public JsonObject JsonObject(JsonObject o, string name, string? path = null)
        {
            var value = o[name];
            return value switch
            {
                null => [],
                JsonObject obj => (JsonObject)obj.DeepClone(),
                _ => throw Error(path ?? $"config.{name}", "must be an object"),
            };
        }

        public Dictionary<string, string> StringMap(JsonObject o, string name, string? path = null)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in JsonObject(o, name, path))
            {
                result[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Error($"{path ?? $"config.{name}"}.{key}", "must be a string");
            }
            return result;
        }

        public Intent Intent(JsonObject o, string path) => new(
            String(o, "name", $"config.{path}.name") ?? throw Error($"config.{path}.name", "an intent needs a name"),
            Strings(o, "phrases", $"config.{path}.phrases"),
            Strings(o, "keywords", $"config.{path}.keywords"),
            DigitText(o, "dtmf", $"config.{path}.dtmf"),
            String(o, "next_node_key", $"config.{path}.next_node_key") ?? "");

        private string? DigitText(JsonObject o, string name, string path)
        {
            var value = o[name];
            if (value is JsonValue v && v.TryGetValue<int>(out var number))
            {
                return number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            var text = String(o, name, path);
            return text is null || text.All(c => char.IsAsciiDigit(c) || c is '*' or '#')
                ? text
                : throw Error(path, "must be keypad keys (0-9, * or #)");
        }

        public Capture Capture(JsonObject o, string path)
        {
            var pattern = String(o, "pattern", $"config.{path}.pattern") ?? "text";
            var parsed = pattern switch
            {
                "text" => CapturePattern.Text,
                "weekday" => CapturePattern.Weekday,
                "date" => CapturePattern.Date,
                "yes_no" => CapturePattern.YesNo,
                "number" => CapturePattern.Number,
                "digits" => CapturePattern.Digits,
                "phone" or "phone_number" => CapturePattern.Phone,
                "name" => CapturePattern.Name,
                "regex" => CapturePattern.Regex,
                _ => throw Error($"config.{path}.pattern", $"'{pattern}' is not text, weekday, date, yes_no, number, digits, phone, name or regex"),
            };
            var regex = String(o, "regex", $"config.{path}.regex");
            if (parsed == CapturePattern.Regex)
            {
                if (string.IsNullOrEmpty(regex))
                {
                    throw Error($"config.{path}.regex", "a regex capture needs a regex");
                }
                try
                {
                    _ = new System.Text.RegularExpressions.Regex(regex, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(50));
                }
                catch (ArgumentException e)
                {
                    throw Error($"config.{path}.regex", $"is not a valid regular expression ({e.Message})");
                }
            }
            return new Capture(
                String(o, "variable", $"config.{path}.variable") ?? throw Error($"config.{path}.variable", "a capture needs a variable name"),
                parsed,
                Strings(o, "phrases", $"config.{path}.phrases"),
                regex,
                o["required"] is JsonValue required && required.TryGetValue<bool>(out var r) ? r : true,
                Int(o, "max_digits", $"config.{path}.max_digits") ?? 0);
        }

        public Retry Retry(JsonObject o, string name)
        {
            var value = o[name];
            if (value is null)
            {
                return new Retry(null, 2);
            }
            if (value is not JsonObject retry)
            {
                throw Error($"config.{name}", "must be an object with reprompt and max");
            }
            return new Retry(String(retry, "reprompt", $"config.{name}.reprompt"), Int(retry, "max", $"config.{name}.max") ?? 2);
        }

        public ConditionBranch Branch(JsonObject o, string path)
        {
            var match = String(o, "match", $"config.{path}.match") ?? "all";
            if (match is not ("all" or "any"))
            {
                throw Error($"config.{path}.match", $"'{match}' is not all or any");
            }
            var rules = Array(o, "rules", $"config.{path}.rules").Select((rule, i) =>
            {
                var rulePath = $"config.{path}.rules[{i}]";
                var op = String(rule, "operator", $"{rulePath}.operator") ?? "equals";
                return new ConditionRule(
                    String(rule, "variable", $"{rulePath}.variable") ?? throw Error($"{rulePath}.variable", "a rule needs a variable"),
                    Conditions.ParseOperator(op) ?? throw Error($"{rulePath}.operator", $"'{op}' is not one of {string.Join(", ", Conditions.OperatorNames)}"),
                    rule["value"] switch
                    {
                        null => null,
                        JsonValue v when v.TryGetValue<string>(out var s) => s,
                        JsonNode other => other.ToJsonString(),
                    });
            }).ToList();
            return new ConditionBranch(match == "all", rules, String(o, "next_node_key", $"config.{path}.next_node_key") ?? "");
        }

        public GlobalTrigger Trigger(JsonObject config)
        {
            var trigger = config["trigger"] as JsonObject ?? throw Error("config.trigger", "a global node needs a trigger with phrases or a dtmf key");
            var phrases = Strings(trigger, "phrases", "config.trigger.phrases");
            var dtmf = DigitText(trigger, "dtmf", "config.trigger.dtmf");
            return phrases.Count == 0 && dtmf is null ? throw Error("config.trigger", "needs phrases or a dtmf key") : new GlobalTrigger(phrases, dtmf);
        }

        public List<FlowAction> Actions(string json, string field) =>
            ArrayOf(json, field).Select((item, i) =>
            {
                var path = $"{field}[{i}]";
                var action = item as JsonObject ?? throw Error(path, "must be an object");
                var type = String(action, "type", $"{path}.type") ?? "tool";
                return type switch
                {
                    "tool" => new FlowAction(
                        System.Guid.TryParse(String(action, "tool_id", $"{path}.tool_id"), out var id) ? id : throw Error($"{path}.tool_id", "a tool action needs a tool_id"),
                        JsonObject(action, "arguments", $"{path}.arguments"),
                        StringMap(action, "result_variables", $"{path}.result_variables"),
                        null),
                    "say" => new FlowAction(null, [], new Dictionary<string, string>(), String(action, "text", $"{path}.text") ?? ""),
                    _ => throw Error($"{path}.type", $"'{type}' is not tool or say"),
                };
            }).ToList();

        public List<ChatText> Messages(string json, string field) =>
            ArrayOf(json, field).Select((item, i) =>
            {
                var message = item as JsonObject ?? throw Error($"{field}[{i}]", "must be an object with role and content");
                return new ChatText(String(message, "role", $"{field}[{i}].role") ?? "system", String(message, "content", $"{field}[{i}].content") ?? "");
            }).ToList();

        public List<TransitionFunction> Functions(string json) =>
            ArrayOf(json, "functions").Select((item, i) =>
            {
                var path = $"functions[{i}]";
                var function = item as JsonObject ?? throw Error(path, "must be an object");
                return new TransitionFunction(
                    String(function, "name", $"{path}.name") ?? throw Error($"{path}.name", "a function needs a name"),
                    String(function, "description", $"{path}.description") ?? "",
                    function["parameters"]?.ToJsonString(),
                    String(function, "next_node_key", $"{path}.next_node_key"));
            }).ToList();
    }
}
