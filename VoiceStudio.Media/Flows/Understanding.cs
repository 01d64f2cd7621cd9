using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FuzzySharp;

namespace VoiceStudio.Media.Flows;

/// <summary>
/// What an ask node makes of an utterance without an LLM: which intent it matches (fuzzy, so recognition slips and
/// extra words still match) and the values its captures take (weekdays, dates, yes/no, numbers, digits, phone
/// numbers, names, regular expressions).
/// </summary>
public static partial class Understanding
{
    private static readonly string[] Days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    private static readonly string[] Months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    private static readonly HashSet<string> Yes = new(StringComparer.Ordinal) { "yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay", "absolutely", "definitely", "affirmative", "please" };
    private static readonly HashSet<string> No = new(StringComparer.Ordinal) { "no", "nope", "nah", "not", "negative", "never", "wrong", "incorrect" };
    private static readonly string[] Units = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    private static readonly string[] Ordinals = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"];
    private static readonly string[] NameLeadIns = ["my name is", "my name's", "the name is", "name is", "this is", "it is", "it's", "i am", "i'm", "call me", "they call me", "you can call me"];
    private static readonly HashSet<string> NotNames = new(StringComparer.Ordinal) { "um", "uh", "er", "erm", "hmm", "hello", "hi", "well", "so", "and", "the", "a", "is", "my", "name", "yes", "no", "okay", "ok" };

    /// <summary>The built-in phrases a pattern can be recognized from (for the recognizer's grammar), or null when it cannot be listed.</summary>
    public static IReadOnlyList<string>? PatternPhrases(CapturePattern pattern) => pattern switch
    {
        CapturePattern.Weekday => [.. Days, "today", "tomorrow"],
        CapturePattern.YesNo => ["yes", "yeah", "yes please", "sure", "correct", "no", "nope", "no thanks", "no thank you"],
        _ => null,
    };

    /// <summary>Lower case, letters, digits, apostrophes and single spaces.</summary>
    public static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        var space = true;
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '\'' or '+')
            {
                builder.Append(c);
                space = false;
            }
            else if (!space)
            {
                builder.Append(' ');
                space = true;
            }
        }
        return builder.ToString().Trim();
    }

    /// <summary>The best-matching intent (score at least <paramref name="threshold"/>), or null.</summary>
    public static (Intent Intent, int Score)? MatchIntent(string utterance, IReadOnlyList<Intent> intents, int threshold)
    {
        var text = Normalize(utterance);
        if (text.Length == 0)
        {
            return null;
        }
        (Intent Intent, int Score, int Length)? best = null;
        foreach (var intent in intents)
        {
            foreach (var (phrase, keyword) in intent.Phrases.Select(p => (p, false)).Concat(intent.Keywords.Select(k => (k, true))))
            {
                var score = Score(text, Normalize(phrase), keyword);
                if (score >= threshold && (best is null || score > best.Value.Score || (score == best.Value.Score && phrase.Length > best.Value.Length)))
                {
                    best = (intent, score, phrase.Length);
                }
            }
        }
        return best is { } b ? (b.Intent, b.Score) : null;
    }

    /// <summary>Whether an utterance matches one of <paramref name="phrases"/> (a global node's trigger).</summary>
    public static bool MatchesAny(string utterance, IEnumerable<string> phrases, int threshold)
    {
        var text = Normalize(utterance);
        return text.Length > 0 && phrases.Any(p => Score(text, Normalize(p), false) >= threshold);
    }

    private static int Score(string text, string phrase, bool keyword)
    {
        if (phrase.Length == 0)
        {
            return 0;
        }
        if ($" {text} ".Contains($" {phrase} ", StringComparison.Ordinal))
        {
            return 100; // the whole phrase was said, whatever came around it
        }
        return keyword ? 0 : Math.Max(Fuzz.Ratio(text, phrase), Fuzz.TokenSortRatio(text, phrase));
    }

    /// <summary>The value <paramref name="capture"/> takes from the utterance, or null when it is not there.</summary>
    public static string? Extract(Capture capture, string utterance, DateTimeOffset now)
    {
        var text = Normalize(utterance);
        if (text.Length == 0)
        {
            return null;
        }
        var words = text.Split(' ');
        return capture.Pattern switch
        {
            CapturePattern.Text => utterance.Trim(),
            CapturePattern.Weekday => Weekday(words, now),
            CapturePattern.Date => Date(utterance, text, words, now),
            CapturePattern.YesNo => YesNo(words),
            CapturePattern.Number => Number(words),
            CapturePattern.Digits => DigitString(words) is { Length: > 0 } digits && (capture.MaxDigits == 0 || digits.Length <= capture.MaxDigits) ? digits : null,
            CapturePattern.Phone => Phone(text, words),
            CapturePattern.Name => Name(text, capture.Phrases),
            CapturePattern.Regex => RegexValue(capture.Regex!, utterance),
            _ => null,
        };
    }

    private static string? Weekday(string[] words, DateTimeOffset now)
    {
        foreach (var word in words)
        {
            var index = Array.IndexOf(Days, word);
            if (index >= 0)
            {
                return Days[index];
            }
            if (word == "today")
            {
                return Days[(int)now.DayOfWeek];
            }
            if (word == "tomorrow")
            {
                return Days[((int)now.DayOfWeek + 1) % 7];
            }
        }
        return null;
    }

    private static string? Date(string utterance, string text, string[] words, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.DateTime);
        if (IsoDate().Match(utterance) is { Success: true } iso
            && DateOnly.TryParseExact(iso.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var exact))
        {
            return Iso(exact);
        }
        if (text.Contains("day after tomorrow", StringComparison.Ordinal))
        {
            return Iso(today.AddDays(2));
        }
        if (words.Contains("tomorrow"))
        {
            return Iso(today.AddDays(1));
        }
        if (words.Contains("today"))
        {
            return Iso(today);
        }
        for (var i = 0; i < words.Length; i++)
        {
            var month = Array.IndexOf(Months, words[i]) + 1;
            if (month == 0)
            {
                continue;
            }
            // "december the fifth", "december 5", "5th of december", "the fifth of december"
            var day = DayNumber(words.Skip(i + 1).Where(w => w != "the").FirstOrDefault())
                ?? DayNumber(words.Take(i).Where(w => w is not ("of" or "the")).LastOrDefault());
            if (day is { } d && d <= DateTime.DaysInMonth(today.Year, month))
            {
                var date = new DateOnly(today.Year, month, d);
                return Iso(date < today ? date.AddYears(1) : date);
            }
        }
        var weekday = words.Select(w => Array.IndexOf(Days, w)).FirstOrDefault(i => i >= 0, -1);
        if (weekday >= 0)
        {
            var ahead = (weekday - (int)today.DayOfWeek + 7) % 7;
            return Iso(today.AddDays(ahead == 0 ? 7 : ahead));
        }
        return null;
    }

    private static int? DayNumber(string? word)
    {
        if (word is null)
        {
            return null;
        }
        var digits = word.TrimEnd('s', 't', 'n', 'd', 'r', 'h');
        if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 31)
        {
            return n;
        }
        var ordinal = Array.IndexOf(Ordinals, word);
        return ordinal > 0 ? ordinal : word == "thirtieth" ? 30 : null;
    }

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string? YesNo(string[] words)
    {
        foreach (var word in words)
        {
            if (No.Contains(word))
            {
                return "no";
            }
            if (Yes.Contains(word))
            {
                return "yes";
            }
        }
        return null;
    }

    /// <summary>A number said in words ("two hundred and five") or digits ("205").</summary>
    public static string? Number(string[] words)
    {
        long total = 0;
        long current = 0;
        var found = false;
        foreach (var word in words)
        {
            if (long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var literal))
            {
                return (total + current + literal).ToString(CultureInfo.InvariantCulture);
            }
            var unit = Array.IndexOf(Units, word);
            var ten = Array.IndexOf(Tens, word);
            if (unit >= 0)
            {
                current += unit;
                found = true;
            }
            else if (ten >= 2)
            {
                current += ten * 10;
                found = true;
            }
            else if (word == "hundred" && found)
            {
                current *= 100;
            }
            else if (word == "thousand" && found)
            {
                total += current * 1000;
                current = 0;
            }
            else if (word == "and" && found)
            {
            }
            else if (found)
            {
                break;
            }
        }
        return found ? (total + current).ToString(CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Digits said one by one ("four oh seven") or typed ("407").</summary>
    private static string DigitString(string[] words)
    {
        var digits = new StringBuilder();
        foreach (var word in words)
        {
            if (word.All(char.IsAsciiDigit))
            {
                digits.Append(word);
            }
            else if (word is "oh" or "o")
            {
                digits.Append('0');
            }
            else if (Array.IndexOf(Units, word) is >= 0 and <= 9 and var digit)
            {
                digits.Append((char)('0' + digit));
            }
            else if (word == "plus")
            {
                // the phone prefix, kept by the caller
            }
            else if (digits.Length > 0)
            {
                break;
            }
        }
        return digits.ToString();
    }

    private static string? Phone(string text, string[] words)
    {
        var digits = DigitString(words);
        if (digits.Length < 7 || digits.Length > 15)
        {
            return null;
        }
        return text.StartsWith('+') || text.StartsWith("plus", StringComparison.Ordinal) ? "+" + digits : digits;
    }

    private static string? Name(string text, IReadOnlyList<string> known)
    {
        foreach (var name in known)
        {
            if ($" {text} ".Contains($" {Normalize(name)} ", StringComparison.Ordinal))
            {
                return TitleCase(name);
            }
        }
        var rest = text;
        foreach (var leadIn in NameLeadIns.OrderByDescending(l => l.Length))
        {
            var at = $" {rest} ".IndexOf($" {leadIn} ", StringComparison.Ordinal);
            if (at >= 0)
            {
                rest = rest[(at + leadIn.Length)..].Trim();
                break;
            }
        }
        var words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !NotNames.Contains(w) && !w.Any(char.IsDigit)).Take(2).ToArray();
        return words.Length == 0 ? null : TitleCase(string.Join(' ', words));
    }

    private static string TitleCase(string text) => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(text.Trim().ToLowerInvariant());

    private static string? RegexValue(string pattern, string utterance)
    {
        try
        {
            var match = Regex.Match(utterance, pattern, RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(50));
            if (!match.Success)
            {
                return null;
            }
            return match.Groups["value"] is { Success: true } named ? named.Value : match.Groups.Count > 1 ? match.Groups[1].Value : match.Value;
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}")]
    private static partial Regex IsoDate();
}
