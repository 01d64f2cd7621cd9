using System.Text;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace VoiceStudio.Data;

/// <summary>Stores an enum as its snake_case name ("InProgress" → "in_progress"), as the SPEC and the API spell it.</summary>
public sealed class SnakeCaseEnumConverter<TEnum>() : ValueConverter<TEnum, string>(
    value => EnumNames.Of(value),
    name => EnumNames.Parse<TEnum>(name))
    where TEnum : struct, Enum
{
}

/// <summary>snake_case names of enum values, cached per enum type.</summary>
public static class EnumNames
{
    private static class Cache<TEnum> where TEnum : struct, Enum
    {
        public static readonly Dictionary<TEnum, string> ToName = Enum.GetValues<TEnum>().ToDictionary(v => v, v => ToSnakeCase(v.ToString()));
        public static readonly Dictionary<string, TEnum> FromName = ToName.ToDictionary(p => p.Value, p => p.Key);
    }

    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => Cache<TEnum>.ToName[value];

    public static TEnum Parse<TEnum>(string name) where TEnum : struct, Enum =>
        Cache<TEnum>.FromName.TryGetValue(name, out var value)
            ? value
            : throw new FormatException($"'{name}' is not a {typeof(TEnum).Name} (expected one of {string.Join(", ", Cache<TEnum>.FromName.Keys)})");

    /// <summary>The SQL list of allowed names, for a check constraint: 'a', 'b', 'c'.</summary>
    public static string SqlList<TEnum>() where TEnum : struct, Enum => string.Join(", ", Cache<TEnum>.ToName.Values.Select(n => $"'{n}'"));

    internal static string ToSnakeCase(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c) && i > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
