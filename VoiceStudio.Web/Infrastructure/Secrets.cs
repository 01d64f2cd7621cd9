namespace VoiceStudio.Web.Infrastructure;

/// <summary>How secrets are shown (the last four characters at most) and recognized when sent back as shown.</summary>
public static class Secrets
{
    public const string MaskPrefix = "••••";

    public static string? Mask(string? secret) => secret is null ? null : secret.Length <= 8 ? MaskPrefix : $"{MaskPrefix}{secret[^4..]}";

    /// <summary>True for a value as <see cref="Mask"/> shows it: the caller means "keep the stored one".</summary>
    public static bool IsMasked(string? value) => value?.StartsWith(MaskPrefix, StringComparison.Ordinal) == true;
}
