using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>
/// Signed, short-lived stream tokens (SPEC §4): the inbound webhook and the outbound dialer put one in the markup
/// that opens the media stream, bound to the call id, the agent and the provider; the media socket refuses a
/// stream without a valid one before any audio is processed. Data Protection's time-limited protector signs and
/// encrypts it with the key ring every instance shares.
/// </summary>
public sealed class StreamTokens(IDataProtectionProvider protection, TimeProvider clock)
{
    /// <summary>How long a token opens a stream: the provider connects within seconds; an outbound callee may take a minute to answer.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("VoiceStudio.StreamToken.v1").ToTimeLimitedDataProtector();

    public string Issue(Guid callId, string agent, TelephonyProvider provider) =>
        _protector.Protect($"{callId:N}|{EnumNames.Of(provider)}|{agent}", clock.GetUtcNow() + Lifetime);

    /// <summary>The call the token opens, or why it does not open a stream of this agent and provider.</summary>
    public (Guid? CallId, string? Problem) Check(string? token, string agent, TelephonyProvider provider)
    {
        if (string.IsNullOrEmpty(token))
        {
            return (null, "the stream has no token: open it through the inbound webhook or the outbound API");
        }
        string payload;
        try
        {
            payload = _protector.Unprotect(token, out var expires);
            if (expires < clock.GetUtcNow())
            {
                return (null, "the stream token has expired");
            }
        }
        catch (CryptographicException)
        {
            return (null, "the stream token is not valid (forged, altered or expired)");
        }
        var parts = payload.Split('|', 3);
        if (parts.Length != 3 || !Guid.TryParseExact(parts[0], "N", out var callId))
        {
            return (null, "the stream token is not valid");
        }
        if (parts[1] != EnumNames.Of(provider) || parts[2] != agent)
        {
            return (null, $"the stream token is for another agent or provider ({parts[1]} {parts[2]})");
        }
        return (callId, null);
    }
}
