using System.Security.Cryptography;
using System.Text;

namespace VoiceStudio.Media.Telephony;

/// <summary>
/// How providers sign their webhook requests, computed the same way on both sides (the server checks, the
/// simulated caller signs):
/// <list type="bullet">
/// <item>Twilio <c>X-Twilio-Signature</c>: base64 HMAC-SHA1, keyed with the auth token, of the full URL the request
/// was sent to followed by every POST parameter as name then value, sorted by name.</item>
/// <item>Vobiz (Plivo's V3 scheme) <c>X-Vobiz-Signature-V3</c> / <c>X-Plivo-Signature-V3</c> with a
/// <c>…-Nonce</c> header: base64 HMAC-SHA256, keyed with the auth token, of the URL (its query sorted), then
/// <c>?</c> and the POST parameters as name then value sorted by name when there are any, then <c>.</c> and the nonce.
/// The header may hold several signatures separated by commas.</item>
/// </list>
/// </summary>
public static class WebhookSignatures
{
    public static string Twilio(string authToken, string url, IEnumerable<KeyValuePair<string, string>> formParameters)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in formParameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            data.Append(name).Append(value);
        }
#pragma warning disable CA5350 // Twilio's signature is defined as HMAC-SHA1; we verify it, we do not choose it
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
#pragma warning restore CA5350
    }

    public static string VobizV3(string authToken, Uri url, IEnumerable<KeyValuePair<string, string>> formParameters, string nonce)
    {
        var data = new StringBuilder(url.GetLeftPart(UriPartial.Path));
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        var pairs = query.AllKeys.Where(k => k is not null).SelectMany(k => query.GetValues(k)!.Select(v => (Key: k!, Value: v)))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).ToList();
        if (pairs.Count > 0)
        {
            data.Append('?').AppendJoin('&', pairs.Select(p => $"{p.Key}={p.Value}"));
        }
        var form = formParameters.OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).ToList();
        if (form.Count > 0)
        {
            data.Append(pairs.Count > 0 ? '&' : '?');
            foreach (var (name, value) in form)
            {
                data.Append(name).Append(value);
            }
        }
        data.Append('.').Append(nonce);
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    /// <summary>Compares a received signature (or a comma-separated list of them) with the expected one in constant time.</summary>
    public static bool Matches(string? received, string expected)
    {
        if (string.IsNullOrEmpty(received))
        {
            return false;
        }
        var wanted = Encoding.ASCII.GetBytes(expected);
        var ok = false;
        foreach (var candidate in received.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            ok |= CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), wanted);
        }
        return ok;
    }
}
