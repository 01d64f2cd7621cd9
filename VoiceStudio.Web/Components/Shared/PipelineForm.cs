using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceStudio.Data.Agents;

namespace VoiceStudio.Web.Components.Shared;

/// <summary>
/// The agent's pipeline settings document (SPEC §3) as form fields. Reading fills missing fields with the engine's defaults;
/// writing changes only the fields the form shows and keeps anything else the document holds.
/// </summary>
public sealed class PipelineForm
{
    public const string Reprompt = "reprompt";
    public const string HangUp = "hangup";

    public double VadConfidence { get; set; } = 0.7;
    public double VadStartSeconds { get; set; } = 0.2;
    public double VadStopSeconds { get; set; } = 0.8;
    public double VadMinVolume { get; set; } = 0.6;
    public bool Interruptions { get; set; } = true;
    public int MinWordsToInterrupt { get; set; }
    public double IdleTimeoutSeconds { get; set; } = 10;
    public string IdleAction { get; set; } = Reprompt;
    public int IdleMaxPrompts { get; set; } = 2;

    public static PipelineForm FromJson(string json)
    {
        var o = Parse(json);
        var defaults = Parse(PipelineSettingsJson.Default);
        var vad = o["vad"] as JsonObject ?? [];
        var defaultVad = (JsonObject)defaults["vad"]!;
        double Number(JsonObject from, JsonObject fallback, string name, double last) =>
            from[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback[name] is JsonValue f && f.TryGetValue<double>(out var e) ? e : last;
        return new PipelineForm
        {
            VadConfidence = Number(vad, defaultVad, "confidence", 0.7),
            VadStartSeconds = Number(vad, defaultVad, "start_secs", 0.2),
            VadStopSeconds = Number(vad, defaultVad, "stop_secs", 0.8),
            VadMinVolume = Number(vad, defaultVad, "min_volume", 0.6),
            Interruptions = o["interruptions"] is not JsonValue i || !i.TryGetValue<bool>(out var on) || on,
            MinWordsToInterrupt = (int)Number(o, defaults, "min_words_to_interrupt", 0),
            IdleTimeoutSeconds = Number(o, defaults, "user_idle_timeout_secs", 10),
            IdleAction = o["user_idle_action"]?.ToString() == HangUp ? HangUp : Reprompt,
            IdleMaxPrompts = (int)Number(o, defaults, "user_idle_max_prompts", 2),
        };
    }

    /// <summary>The document with this form's fields written into <paramref name="original"/> (other fields untouched).</summary>
    public JsonObject ToJson(string original)
    {
        var o = Parse(original);
        var vad = o["vad"] as JsonObject ?? [];
        vad["confidence"] = VadConfidence;
        vad["start_secs"] = VadStartSeconds;
        vad["stop_secs"] = VadStopSeconds;
        vad["min_volume"] = VadMinVolume;
        o["vad"] = vad;
        o["turn_detection"] ??= "vad";
        o["interruptions"] = Interruptions;
        o["min_words_to_interrupt"] = MinWordsToInterrupt;
        o["user_idle_timeout_secs"] = IdleTimeoutSeconds;
        o["user_idle_action"] = IdleAction;
        o["user_idle_max_prompts"] = IdleMaxPrompts;
        return o;
    }

    /// <summary>Values outside what the engine accepts, each naming the field.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        void Range(string name, double value, double min, double max)
        {
            if (value < min || value > max || double.IsNaN(value))
            {
                problems.Add($"{name} must be from {min} to {max}");
            }
        }
        Range("VAD confidence", VadConfidence, 0, 1);
        Range("speech start (s)", VadStartSeconds, 0.05, 2);
        Range("end of turn silence (s)", VadStopSeconds, 0.1, 5);
        Range("minimum volume", VadMinVolume, 0, 1);
        Range("words before an interruption", MinWordsToInterrupt, 0, 20);
        Range("idle timeout (s)", IdleTimeoutSeconds, 1, 600);
        Range("idle re-prompts", IdleMaxPrompts, 0, 10);
        return problems;
    }

    private static JsonObject Parse(string json)
    {
        try
        {
            return JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
