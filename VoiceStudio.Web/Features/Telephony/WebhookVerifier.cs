using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Telephony;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>
/// Checks that a webhook really comes from the provider (SPEC §11): Twilio's <c>X-Twilio-Signature</c>, Vobiz's
/// V3 signature (Plivo's scheme), Exotel's webhook secret in the URL (<c>?secret=</c>) or HTTP basic auth with the
/// account's API key and token. The URL signed is the one the provider called: PUBLIC_BASE_URL with the request's
/// path and query when set (a proxy in front changes scheme and host), else the request's own URL.
/// TELEPHONY_VERIFY_REQUESTS=false turns the checks off, for local development only.
/// </summary>
public sealed class WebhookVerifier(TelephonyAccounts accounts, IOptions<VoiceStudioSettings> settings)
{
    public bool Enabled => settings.Value.TelephonyVerifyRequests;

    /// <summary>Null when the request is genuine (or checks are off); otherwise why it is refused.</summary>
    public async Task<string?> CheckAsync(HttpRequest request, TelephonyProvider provider, IReadOnlyList<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return null;
        }
        var account = await accounts.GetAsync(provider, cancellationToken);
        var url = SignedUrl(request, await accounts.ConfiguredPublicBaseUrlAsync(cancellationToken));
        switch (provider)
        {
            case TelephonyProvider.Twilio:
                if (account.AuthToken is null)
                {
                    return "twilio webhooks cannot be verified: no auth token is configured (telephony settings or TWILIO_AUTH_TOKEN)";
                }
                var twilio = request.Headers["X-Twilio-Signature"].ToString();
                if (twilio.Length == 0)
                {
                    return "the request has no X-Twilio-Signature header";
                }
                return WebhookSignatures.Matches(twilio, WebhookSignatures.Twilio(account.AuthToken, url, form)) ? null : "the X-Twilio-Signature does not match";
            case TelephonyProvider.Vobiz:
                if (account.AuthToken is null)
                {
                    return "vobiz webhooks cannot be verified: no auth token is configured (telephony settings or VOBIZ_AUTH_TOKEN)";
                }
                var signature = First(request, "X-Vobiz-Signature-V3", "X-Plivo-Signature-V3");
                var nonce = First(request, "X-Vobiz-Signature-V3-Nonce", "X-Plivo-Signature-V3-Nonce");
                if (signature is null || nonce is null)
                {
                    return "the request has no X-Vobiz-Signature-V3 and nonce headers";
                }
                return WebhookSignatures.Matches(signature, WebhookSignatures.VobizV3(account.AuthToken, new Uri(url), form, nonce)) ? null : "the Vobiz signature does not match";
            case TelephonyProvider.Exotel:
                return CheckExotel(request, account);
            default:
                return $"{EnumNames.Of(provider)} has no webhooks";
        }
    }

    /// <summary>Exotel: the webhook secret as <c>?secret=</c>, or basic auth with the API key and token.</summary>
    public static string? CheckExotel(HttpRequest request, ProviderAccount account)
    {
        if (account.WebhookSecret is null && (account.ApiKey is null || account.AuthToken is null))
        {
            return "exotel requests cannot be verified: configure a webhook secret (or EXOTEL_WEBHOOK_SECRET) or the API key and token";
        }
        if (account.WebhookSecret is { } secret && request.Query["secret"] is { Count: > 0 } given && Same(given.ToString(), secret))
        {
            return null;
        }
        var header = request.Headers.Authorization.ToString();
        if (account.ApiKey is { } key && account.AuthToken is { } token && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                if (Same(pair, $"{key}:{token}"))
                {
                    return null;
                }
            }
            catch (FormatException)
            {
                return "the Authorization header is not valid basic auth";
            }
        }
        return "the request carries neither the Exotel webhook secret nor the account's basic auth";
    }

    public static string SignedUrl(HttpRequest request, string? publicBaseUrl)
    {
        var origin = string.IsNullOrWhiteSpace(publicBaseUrl) ? $"{request.Scheme}://{request.Host}{request.PathBase}" : publicBaseUrl.TrimEnd('/');
        return $"{origin}{request.Path}{request.QueryString}";
    }

    private static string? First(HttpRequest request, params string[] names) =>
        names.Select(n => request.Headers[n].ToString()).FirstOrDefault(v => v.Length > 0);

    private static bool Same(string a, string b) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
