using System.Globalization;

namespace VoiceStudio.Media.Flows;

/// <summary>
/// The rules a condition node checks: variable, operator, value, with "all" or "any" per branch. Values compare as
/// numbers when both sides are numbers, otherwise as text without regard to case.
/// </summary>
public static class Conditions
{
    private static readonly Dictionary<string, ConditionOperator> Names = new(StringComparer.Ordinal)
    {
        ["equals"] = ConditionOperator.Equals,
        ["not_equals"] = ConditionOperator.NotEquals,
        ["contains"] = ConditionOperator.Contains,
        ["not_contains"] = ConditionOperator.NotContains,
        ["starts_with"] = ConditionOperator.StartsWith,
        ["greater_than"] = ConditionOperator.GreaterThan,
        ["greater_or_equal"] = ConditionOperator.GreaterOrEqual,
        ["less_than"] = ConditionOperator.LessThan,
        ["less_or_equal"] = ConditionOperator.LessOrEqual,
        ["is_empty"] = ConditionOperator.IsEmpty,
        ["is_not_empty"] = ConditionOperator.IsNotEmpty,
        ["is_true"] = ConditionOperator.IsTrue,
        ["is_false"] = ConditionOperator.IsFalse,
    };

    public static IEnumerable<string> OperatorNames => Names.Keys;

    public static ConditionOperator? ParseOperator(string name) => Names.TryGetValue(name, out var op) ? op : null;

    /// <summary>The next node of the first branch that holds, else the else edge (null when there is none).</summary>
    public static string? Choose(ConditionNode node, Func<string, string?> variable, Func<string, string> render)
    {
        foreach (var branch in node.Branches)
        {
            var holds = branch.MatchAll
                ? branch.Rules.All(r => Holds(r, variable, render))
                : branch.Rules.Any(r => Holds(r, variable, render));
            if (holds && branch.Rules.Count > 0)
            {
                return branch.Next;
            }
        }
        return node.Else;
    }

    public static bool Holds(ConditionRule rule, Func<string, string?> variable, Func<string, string> render)
    {
        var left = (variable(rule.Variable) ?? "").Trim();
        var right = render(rule.Value ?? "").Trim();
        var numbers = double.TryParse(left, NumberStyles.Float, CultureInfo.InvariantCulture, out var l)
            & double.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out var r);
        var compared = numbers ? l.CompareTo(r) : string.Compare(left, right, StringComparison.OrdinalIgnoreCase);
        return rule.Operator switch
        {
            ConditionOperator.Equals => compared == 0,
            ConditionOperator.NotEquals => compared != 0,
            ConditionOperator.Contains => left.Contains(right, StringComparison.OrdinalIgnoreCase),
            ConditionOperator.NotContains => !left.Contains(right, StringComparison.OrdinalIgnoreCase),
            ConditionOperator.StartsWith => left.StartsWith(right, StringComparison.OrdinalIgnoreCase),
            ConditionOperator.GreaterThan => compared > 0,
            ConditionOperator.GreaterOrEqual => compared >= 0,
            ConditionOperator.LessThan => compared < 0,
            ConditionOperator.LessOrEqual => compared <= 0,
            ConditionOperator.IsEmpty => left.Length == 0,
            ConditionOperator.IsNotEmpty => left.Length > 0,
            ConditionOperator.IsTrue => IsTrue(left),
            ConditionOperator.IsFalse => !IsTrue(left),
            _ => false,
        };
    }

    private static bool IsTrue(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value == "1";
}
