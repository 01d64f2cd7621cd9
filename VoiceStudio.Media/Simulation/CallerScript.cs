using System.Globalization;

namespace VoiceStudio.Media.Simulation;

/// <summary>One thing the simulated caller does.</summary>
public abstract record CallerStep
{
    /// <summary>Wait until the agent has spoken and gone quiet (at most <paramref name="Timeout"/>).</summary>
    public sealed record WaitForAgent(TimeSpan Timeout) : CallerStep;

    /// <summary>Say <paramref name="Text"/> (synthesized with Flite, streamed in real time).</summary>
    public sealed record Say(string Text) : CallerStep;

    /// <summary>Wait for the agent to start speaking, let it talk for <paramref name="After"/>, then say <paramref name="Text"/> over it.</summary>
    public sealed record BargeIn(string Text, TimeSpan After) : CallerStep;

    public sealed record Silence(TimeSpan Duration) : CallerStep;

    public sealed record Dtmf(string Digits) : CallerStep;

    /// <summary>The caller hangs up (the provider's stop message, then the socket closes).</summary>
    public sealed record HangUp : CallerStep;
}

/// <summary>
/// A caller's script, one step per line or separated by ';':
/// <c>wait [seconds]</c>, <c>say TEXT</c>, <c>barge [ms] TEXT</c>, <c>silence SECONDS</c>, <c>dtmf DIGITS</c>, <c>hangup</c>.
/// Blank lines and lines starting with # are skipped.
/// </summary>
public static class CallerScript
{
    /// <summary>A conversation with the seeded demo agent: book an appointment for Tuesday as Alice.</summary>
    public const string DemoBooking = "wait; say book an appointment; wait; say tuesday please; wait; say my name is alice; wait 20";

    public static IReadOnlyList<CallerStep> Parse(string script)
    {
        var steps = new List<CallerStep>();
        var number = 0;
        foreach (var raw in script.Split(['\n', ';'], StringSplitOptions.TrimEntries))
        {
            number++;
            if (raw.Length == 0 || raw.StartsWith('#'))
            {
                continue;
            }
            var space = raw.IndexOf(' ', StringComparison.Ordinal);
            var verb = (space < 0 ? raw : raw[..space]).ToLowerInvariant();
            var rest = space < 0 ? "" : raw[(space + 1)..].Trim();
            steps.Add(verb switch
            {
                "wait" => new CallerStep.WaitForAgent(TimeSpan.FromSeconds(rest.Length == 0 ? 15 : Seconds(rest, number))),
                "say" when rest.Length > 0 => new CallerStep.Say(rest),
                "barge" => Barge(rest, number),
                "silence" => new CallerStep.Silence(TimeSpan.FromSeconds(Seconds(rest, number))),
                "dtmf" when rest.Length > 0 && rest.All(c => char.IsAsciiDigit(c) || c is '*' or '#') => new CallerStep.Dtmf(rest),
                "hangup" => new CallerStep.HangUp(),
                _ => throw new FormatException($"script step {number} '{raw}': expected wait [s], say TEXT, barge [ms] TEXT, silence S, dtmf DIGITS or hangup"),
            });
        }
        return steps;
    }

    private static CallerStep.BargeIn Barge(string rest, int number)
    {
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && int.TryParse(rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return new CallerStep.BargeIn(rest[(space + 1)..].Trim(), TimeSpan.FromMilliseconds(ms));
        }
        return rest.Length > 0 ? new CallerStep.BargeIn(rest, TimeSpan.FromMilliseconds(800)) : throw new FormatException($"script step {number}: barge needs text");
    }

    private static double Seconds(string text, int number) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && seconds <= 3600
            ? seconds
            : throw new FormatException($"script step {number}: '{text}' is not a number of seconds");
}
