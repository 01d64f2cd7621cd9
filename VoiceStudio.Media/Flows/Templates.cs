using System.Collections.Concurrent;
using Fluid;
using Fluid.Values;

namespace VoiceStudio.Media.Flows;

/// <summary>
/// <c>{{name}}</c> templates (Liquid, through Fluid) in greetings, prompts, messages and tool arguments. A missing
/// variable renders empty and is reported, a template that does not parse is spoken as written minus its tags;
/// neither ever throws into a call. Parsed templates are cached process-wide (they are immutable and thread-safe).
/// </summary>
public static class Templates
{
    private const int MaxCached = 10_000;
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = new();
    private static readonly ConcurrentDictionary<string, (IFluidTemplate? Template, string? Error)> Cache = new(StringComparer.Ordinal);

    /// <summary>Null when the text parses; otherwise what is wrong with it.</summary>
    public static string? Check(string text) => Parse(text).Error;

    /// <summary>Renders <paramref name="text"/>; <paramref name="missing"/> hears of each variable that has no value.</summary>
    public static string Render(string text, IReadOnlyDictionary<string, string> variables, Action<string>? missing = null)
    {
        if (!text.Contains("{{", StringComparison.Ordinal) && !text.Contains("{%", StringComparison.Ordinal))
        {
            return text;
        }
        var (template, error) = Parse(text);
        if (template is null)
        {
            missing?.Invoke($"template error: {error}");
            return System.Text.RegularExpressions.Regex.Replace(text, @"\{[{%].*?[}%]\}", "", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(50));
        }
        var context = new TemplateContext(Options);
        foreach (var (name, value) in variables)
        {
            context.SetValue(name, value);
        }
        context.Undefined = name =>
        {
            missing?.Invoke(name);
            return ValueTask.FromResult<FluidValue>(NilValue.Instance);
        };
        try
        {
            return template.Render(context);
        }
        catch (InvalidOperationException e)
        {
            missing?.Invoke($"template error: {e.Message}");
            return text;
        }
    }

    private static (IFluidTemplate? Template, string? Error) Parse(string text)
    {
        if (Cache.TryGetValue(text, out var cached))
        {
            return cached;
        }
        var parsed = Parser.TryParse(text, out var template, out var error) ? (template, (string?)null) : (null, error);
        if (Cache.Count >= MaxCached)
        {
            Cache.Clear();
        }
        Cache[text] = parsed;
        return parsed;
    }
}
