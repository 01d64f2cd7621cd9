using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Data.Telephony;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>One provider's account as the app uses it: secrets decrypted, environment values filling what the settings leave empty.</summary>
public sealed record ProviderAccount(
    TelephonyProvider Provider,
    string? AccountId,
    string? ApiKey,
    string? AuthToken,
    string? PhoneNumber,
    string? ApiBaseUrl,
    string? WebhookSecret,
    int MaxConcurrent,
    string? AppId = null);

/// <summary>
/// The telephony accounts: read from the settings rows (secrets encrypted with ASP.NET Data Protection, whose key
/// ring lives in the database so every instance can read them) with environment variables as the fallback
/// (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER, TWILIO_API_BASE; EXOTEL_SID, EXOTEL_API_KEY,
/// EXOTEL_API_TOKEN, EXOTEL_PHONE_NUMBER, EXOTEL_API_BASE, EXOTEL_WEBHOOK_SECRET; VOBIZ_AUTH_ID, VOBIZ_AUTH_TOKEN,
/// VOBIZ_PHONE_NUMBER, VOBIZ_API_BASE). Read on every use, so a change through the settings API applies at once.
/// </summary>
public sealed class TelephonyAccounts(IDbContextFactory<VoiceStudioDbContext> dbFactory, IDataProtectionProvider protection, IConfiguration configuration)
{
    private readonly IDataProtector _secrets = protection.CreateProtector("VoiceStudio.Telephony.Secrets.v1");

    public string Protect(string secret) => _secrets.Protect(secret);

    /// <summary>The secret, or null when it is absent or cannot be decrypted (a key ring that was lost).</summary>
    public string? Unprotect(string? stored)
    {
        if (string.IsNullOrEmpty(stored))
        {
            return null;
        }
        try
        {
            return _secrets.Unprotect(stored);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The public base URL providers reach us at: the telephony settings, else PUBLIC_BASE_URL; null when neither is set.</summary>
    public async Task<string?> ConfiguredPublicBaseUrlAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stored = await db.TelephonySettings.AsNoTracking().Select(s => s.PublicBaseUrl).FirstOrDefaultAsync(cancellationToken);
        return (!string.IsNullOrWhiteSpace(stored) ? stored : configuration["PUBLIC_BASE_URL"] is { Length: > 0 } env ? env : null)?.TrimEnd('/');
    }

    /// <summary>The configured public base URL, else the origin this request came to.</summary>
    public async Task<string> PublicBaseUrlAsync(HttpRequest request, CancellationToken cancellationToken) =>
        await ConfiguredPublicBaseUrlAsync(cancellationToken) ?? $"{request.Scheme}://{request.Host}{request.PathBase}";

    public async Task<ProviderAccount> GetAsync(TelephonyProvider provider, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.TelephonyProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Provider == provider, cancellationToken);
        return Merge(provider, row);
    }

    public ProviderAccount Merge(TelephonyProvider provider, TelephonyProviderSettings? row)
    {
        var prefix = EnumNames.Of(provider).ToUpperInvariant();
        string? Env(string name) => configuration[$"{prefix}_{name}"] is { Length: > 0 } value ? value : null;
        string? Pick(string? stored, params string[] names) =>
            !string.IsNullOrEmpty(stored) ? stored : names.Select(Env).FirstOrDefault(v => v is not null);
        return new ProviderAccount(
            provider,
            Pick(row?.AccountId, "ACCOUNT_SID", "SID", "AUTH_ID", "ACCOUNT_ID"),
            Pick(row?.ApiKey, "API_KEY"),
            Pick(Unprotect(row?.AuthTokenProtected), "AUTH_TOKEN", "API_TOKEN"),
            Pick(row?.PhoneNumber, "PHONE_NUMBER"),
            Pick(row?.ApiBaseUrl, "API_BASE"),
            Pick(Unprotect(row?.WebhookSecretProtected), "WEBHOOK_SECRET"),
            row?.MaxConcurrent ?? TelephonyProviderSettings.DefaultMaxConcurrent,
            Pick(row?.AppId, "APP_ID"));
    }
}
