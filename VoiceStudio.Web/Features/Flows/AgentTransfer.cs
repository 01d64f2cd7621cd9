using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Tools;
using VoiceStudio.Media.Flows;

namespace VoiceStudio.Web.Features.Flows;

/// <summary>
/// Agent export and import: one JSON document with the agent's settings, its flow and every tool it or its nodes
/// use. Secrets stay behind: <c>api_key</c> fields of the provider settings and tool headers that carry credentials
/// are exported empty and listed under <c>redacted</c>. On import, tools are matched by name (an existing tool of the
/// same name is used as it is), the others are created, and every tool id in the flow is rewritten to the tool it
/// now means.
/// </summary>
public static partial class AgentTransfer
{
    public const string Format = "voicestudio.agent";
    public const int FormatVersion = 1;

    public sealed record ImportResult(Agent? Agent, IReadOnlyList<FlowProblem> Problems, int Status, int ToolsCreated, int ToolsReused);

    public static async Task<JsonObject> ExportAsync(VoiceStudioDbContext db, Agent agent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nodes = await db.FlowNodes.AsNoTracking().Where(n => n.AgentId == agent.Id).OrderBy(n => n.CreatedAt).ThenBy(n => n.Id).ToListAsync(cancellationToken);
        var used = agent.ToolIds.Concat(agent.PreCallToolIds).Concat(nodes.SelectMany(FlowDocument.ToolIdsOf)).ToHashSet();
        var tools = await db.Tools.AsNoTracking().Where(t => used.Contains(t.Id)).OrderBy(t => t.Name).ToListAsync(cancellationToken);
        var redacted = new JsonArray();
        var providerSettings = JsonNode.Parse(agent.ProviderSettings) ?? new JsonObject();
        Redact(providerSettings, "agent.provider_settings", redacted);
        return new JsonObject
        {
            ["format"] = Format,
            ["format_version"] = FormatVersion,
            ["exported_at"] = now,
            ["agent"] = new JsonObject
            {
                ["name"] = agent.Name,
                ["description"] = agent.Description,
                ["system_prompt"] = agent.SystemPrompt,
                ["greeting"] = agent.Greeting,
                ["stt_provider"] = agent.SttProvider,
                ["stt_model"] = agent.SttModel,
                ["stt_language"] = agent.SttLanguage,
                ["llm_provider"] = agent.LlmProvider,
                ["llm_model"] = agent.LlmModel,
                ["llm_temperature"] = agent.LlmTemperature,
                ["llm_max_tokens"] = agent.LlmMaxTokens,
                ["tts_provider"] = agent.TtsProvider,
                ["tts_model"] = agent.TtsModel,
                ["tts_voice"] = agent.TtsVoice,
                ["tts_language"] = agent.TtsLanguage,
                ["provider_settings"] = providerSettings,
                ["pipeline_settings"] = JsonNode.Parse(agent.PipelineSettings),
                ["context_variables"] = JsonNode.Parse(agent.ContextVariables),
                ["tool_ids"] = new JsonArray([.. agent.ToolIds.Select(id => JsonValue.Create(id))]),
                ["pre_call_tool_ids"] = new JsonArray([.. agent.PreCallToolIds.Select(id => JsonValue.Create(id))]),
                ["webhook_url"] = agent.WebhookUrl,
                ["webhook_events"] = new JsonArray([.. agent.WebhookEvents.Select(e => JsonValue.Create(e))]),
            },
            ["tools"] = new JsonArray([.. tools.Select((t, i) => (JsonNode)ExportTool(t, i, redacted))]),
            ["flow"] = FlowDocument.Write(nodes),
            ["redacted"] = redacted,
        };
    }

    private static JsonObject ExportTool(Tool tool, int index, JsonArray redacted)
    {
        var headers = JsonNode.Parse(tool.Headers) as JsonObject ?? [];
        foreach (var name in headers.Select(h => h.Key).Where(IsSecretHeader).ToList())
        {
            headers[name] = "";
            redacted.Add($"tools[{index}].headers.{name}");
        }
        return new JsonObject
        {
            ["id"] = tool.Id,
            ["name"] = tool.Name,
            ["description"] = tool.Description,
            ["parameters"] = JsonNode.Parse(tool.Parameters),
            ["webhook_url"] = tool.WebhookUrl,
            ["method"] = tool.Method == ToolMethod.Get ? "GET" : "POST",
            ["headers"] = headers,
            ["timeout_seconds"] = tool.TimeoutSeconds,
        };
    }

    private static bool IsSecretHeader(string name) =>
        name.Equals("authorization", StringComparison.OrdinalIgnoreCase) || SecretWord().IsMatch(name);

    private static void Redact(JsonNode? node, string path, JsonArray redacted)
    {
        if (node is not JsonObject o)
        {
            return;
        }
        foreach (var (name, value) in o.ToList())
        {
            if (value is JsonValue && SecretWord().IsMatch(name) && !name.EndsWith("_env", StringComparison.Ordinal))
            {
                o[name] = "";
                redacted.Add($"{path}.{name}");
            }
            else
            {
                Redact(value, $"{path}.{name}", redacted);
            }
        }
    }

    public static async Task<ImportResult> ImportAsync(VoiceStudioDbContext db, JsonObject document, string? rename, string? user, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        if (document["format"]?.ToString() != Format)
        {
            Problem("format", $"this is not an agent export (expected \"format\": \"{Format}\")");
            return new ImportResult(null, problems, StatusCodes.Status400BadRequest, 0, 0);
        }
        if (document["format_version"] is not JsonValue fv || !fv.TryGetValue<int>(out var version) || version != FormatVersion)
        {
            Problem("format_version", $"only format_version {FormatVersion} can be imported");
            return new ImportResult(null, problems, StatusCodes.Status400BadRequest, 0, 0);
        }
        if (document["agent"] is not JsonObject a)
        {
            Problem("agent", "must be an object with the agent's settings");
            return new ImportResult(null, problems, StatusCodes.Status400BadRequest, 0, 0);
        }
        var reader = new Fields(Problem);
        var name = string.IsNullOrWhiteSpace(rename) ? reader.String(a, "agent.name", required: true) : rename.Trim();
        if (name is not null && !AgentName().IsMatch(name))
        {
            Problem(string.IsNullOrWhiteSpace(rename) ? "agent.name" : "name", $"'{name}' is not an agent name: 1 to 64 lowercase letters, digits, '_' or '-', starting with a letter or digit");
        }
        var agent = new Agent
        {
            Id = Guid.CreateVersion7(),
            Name = name ?? "",
            Description = reader.String(a, "agent.description"),
            SystemPrompt = reader.String(a, "agent.system_prompt") ?? "",
            Greeting = reader.String(a, "agent.greeting"),
            SttProvider = reader.String(a, "agent.stt_provider") ?? SpeechDefaults.SttProvider,
            SttModel = reader.String(a, "agent.stt_model"),
            SttLanguage = reader.String(a, "agent.stt_language") ?? SpeechDefaults.Language,
            LlmProvider = reader.String(a, "agent.llm_provider"),
            LlmModel = reader.String(a, "agent.llm_model"),
            LlmTemperature = reader.Number(a, "agent.llm_temperature", 0.7, 0, 2),
            LlmMaxTokens = (int)reader.Number(a, "agent.llm_max_tokens", 512, 1, 1_000_000),
            TtsProvider = reader.String(a, "agent.tts_provider") ?? SpeechDefaults.TtsProvider,
            TtsModel = reader.String(a, "agent.tts_model"),
            TtsVoice = reader.String(a, "agent.tts_voice") ?? SpeechDefaults.TtsVoice,
            TtsLanguage = reader.String(a, "agent.tts_language") ?? SpeechDefaults.Language,
            ProviderSettings = reader.Object(a, "agent.provider_settings") ?? "{}",
            PipelineSettings = reader.Object(a, "agent.pipeline_settings") ?? PipelineSettingsJson.Default,
            ContextVariables = reader.Object(a, "agent.context_variables") ?? "{}",
            WebhookUrl = reader.String(a, "agent.webhook_url"),
            WebhookEvents = reader.Strings(a, "agent.webhook_events"),
            CreatedAt = now,
            UpdatedAt = now,
        };
        var toolIds = reader.Guids(a, "agent.tool_ids");
        var preCallIds = reader.Guids(a, "agent.pre_call_tool_ids");

        // Tools: by name, reusing what exists.
        var idMap = new Dictionary<Guid, Guid>();
        var created = new List<Tool>();
        var reused = 0;
        var tools = document["tools"] as JsonArray ?? [];
        if (document["tools"] is not null and not JsonArray)
        {
            Problem("tools", "must be an array");
        }
        for (var i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject t)
            {
                Problem($"tools[{i}]", "must be an object");
                continue;
            }
            var path = $"tools[{i}]";
            var oldId = Fields.Guid(t, $"{path}.id");
            var toolName = reader.String(t, $"{path}.name", required: true);
            if (toolName is null)
            {
                continue;
            }
            var existing = await db.Tools.FirstOrDefaultAsync(x => x.Name == toolName, cancellationToken) ?? created.FirstOrDefault(x => x.Name == toolName);
            if (existing is not null)
            {
                reused++;
            }
            else
            {
                existing = ReadTool(reader, t, path, toolName, now);
                if (existing is null)
                {
                    continue;
                }
                created.Add(existing);
            }
            if (oldId is { } id)
            {
                idMap[id] = existing.Id;
            }
        }

        Guid Map(Guid id, string field)
        {
            if (idMap.TryGetValue(id, out var mapped))
            {
                return mapped;
            }
            Problem(field, $"tool {id} is not among the document's tools");
            return id;
        }
        agent.ToolIds = [.. toolIds.Select((id, i) => Map(id, $"agent.tool_ids[{i}]"))];
        agent.PreCallToolIds = [.. preCallIds.Select((id, i) => Map(id, $"agent.pre_call_tool_ids[{i}]"))];

        // The flow, with its tool ids rewritten (a UUID's text cannot occur by accident inside other text).
        var flow = document["flow"]?.ToJsonString() ?? "[]";
        foreach (var (from, to) in idMap)
        {
            flow = flow.Replace(from.ToString(), to.ToString(), StringComparison.OrdinalIgnoreCase);
        }
        var known = await db.Tools.Select(t => t.Id).ToListAsync(cancellationToken);
        var flowProblems = FlowDocument.Validate(JsonNode.Parse(flow), [.. known, .. created.Select(t => t.Id)], out var nodes);
        problems.AddRange(flowProblems.Select(p => p with { Field = p.Node is null ? $"flow.{p.Field}" : p.Field }));
        if (problems.Count > 0)
        {
            return new ImportResult(null, problems, StatusCodes.Status400BadRequest, 0, 0);
        }
        if (await db.Agents.AnyAsync(x => x.Name == agent.Name, cancellationToken))
        {
            Problem(string.IsNullOrWhiteSpace(rename) ? "agent.name" : "name", $"an agent named '{agent.Name}' exists; import with ?name= to give this one another name");
            return new ImportResult(null, problems, StatusCodes.Status409Conflict, 0, 0);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Tools.AddRange(created);
        db.Agents.Add(agent);
        await db.SaveChangesAsync(cancellationToken);
        await FlowStore.SaveAsync(db, agent, nodes, $"imported{(user is null ? "" : $" by {user}")}", user, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        agent.Nodes = nodes;
        return new ImportResult(agent, [], StatusCodes.Status201Created, created.Count, reused);
    }

    private static Tool? ReadTool(Fields reader, JsonObject t, string path, string name, DateTimeOffset now)
    {
        var ok = true;
        if (!ToolName().IsMatch(name))
        {
            reader.Problem($"{path}.name", $"'{name}' is not a tool name: snake_case, starting with a letter, at most 64 characters");
            ok = false;
        }
        var url = reader.String(t, $"{path}.webhook_url", required: true);
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            reader.Problem($"{path}.webhook_url", $"'{url}' is not an http or https URL");
            ok = false;
        }
        var method = (reader.String(t, $"{path}.method") ?? "POST").ToUpperInvariant();
        if (method is not ("POST" or "GET"))
        {
            reader.Problem($"{path}.method", $"'{method}' is not POST or GET");
            ok = false;
        }
        var tool = new Tool
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Description = reader.String(t, $"{path}.description") ?? "",
            Parameters = reader.Object(t, $"{path}.parameters") ?? """{"type":"object","properties":{}}""",
            WebhookUrl = url ?? "",
            Method = method == "GET" ? ToolMethod.Get : ToolMethod.Post,
            Headers = reader.Object(t, $"{path}.headers") ?? "{}",
            TimeoutSeconds = reader.Number(t, $"{path}.timeout_seconds", 10, 0.1, 120),
            CreatedAt = now,
            UpdatedAt = now,
        };
        return ok && url is not null ? tool : null;
    }

    /// <summary>Reads fields of the document, reporting each one that has the wrong shape.</summary>
    private sealed class Fields(Action<string, string> problem)
    {
        public void Problem(string field, string message) => problem(field, message);

        private static string Last(string path) => path[(path.LastIndexOf('.') + 1)..];

        public string? String(JsonObject o, string path, bool required = false)
        {
            switch (o[Last(path)])
            {
                case null when required:
                    problem(path, "is required");
                    return null;
                case null:
                    return null;
                case JsonValue v when v.TryGetValue<string>(out var s):
                    return s;
                default:
                    problem(path, "must be a string");
                    return null;
            }
        }

        public double Number(JsonObject o, string path, double fallback, double min, double max)
        {
            switch (o[Last(path)])
            {
                case null:
                    return fallback;
                case JsonValue v when v.TryGetValue<double>(out var d) && d >= min && d <= max:
                    return d;
                default:
                    problem(path, $"must be a number from {min} to {max}");
                    return fallback;
            }
        }

        public string? Object(JsonObject o, string path)
        {
            switch (o[Last(path)])
            {
                case null:
                    return null;
                case JsonObject value:
                    return value.ToJsonString();
                default:
                    problem(path, "must be a JSON object");
                    return null;
            }
        }

        public static Guid? Guid(JsonObject o, string path) =>
            o[Last(path)] is JsonValue v && v.TryGetValue<string>(out var s) && System.Guid.TryParse(s, out var id) ? id : null;

        public List<Guid> Guids(JsonObject o, string path)
        {
            var result = new List<Guid>();
            if (o[Last(path)] is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue v && v.TryGetValue<string>(out var s) && System.Guid.TryParse(s, out var id))
                    {
                        result.Add(id);
                    }
                    else
                    {
                        problem($"{path}[{i}]", "is not a tool id (a UUID)");
                    }
                }
            }
            else if (o[Last(path)] is not null)
            {
                problem(path, "must be an array of tool ids");
            }
            return result;
        }

        public List<string> Strings(JsonObject o, string path)
        {
            if (o[Last(path)] is null)
            {
                return [];
            }
            try
            {
                return o[Last(path)].Deserialize<List<string>>() ?? [];
            }
            catch (JsonException)
            {
                problem(path, "must be an array of strings");
                return [];
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex AgentName();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex ToolName();

    [GeneratedRegex("(key|token|secret|password)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretWord();
}
