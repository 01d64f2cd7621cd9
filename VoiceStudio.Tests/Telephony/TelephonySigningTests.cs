using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Time.Testing;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Telephony;
using VoiceStudio.Web.Features.Telephony;

namespace VoiceStudio.Tests.Telephony;

/// <summary>Webhook signatures against the providers' published examples; stream tokens' binding and expiry.</summary>
public sealed class TelephonySigningTests
{
    [Theory]
    // Twilio's own worked examples (its request-validator tests and security docs), token "12345".
    [InlineData("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")]
    [InlineData("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")]
    public void Twilio_signatures_match_twilios_published_examples(string caller, string expected)
    {
        var parameters = new Dictionary<string, string>
        {
            ["CallSid"] = "CA1234567890ABCDE",
            ["Caller"] = caller,
            ["Digits"] = "1234",
            ["From"] = caller,
            ["To"] = "+18005551212",
        };
        var signature = WebhookSignatures.Twilio("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", parameters);
        Assert.Equal(expected, signature);
        Assert.True(WebhookSignatures.Matches(expected, signature));
        Assert.False(WebhookSignatures.Matches(expected, WebhookSignatures.Twilio("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", parameters)));
        Assert.False(WebhookSignatures.Matches(null, signature));
    }

    [Fact]
    public void Vobiz_signatures_cover_the_url_the_parameters_and_the_nonce()
    {
        var form = new Dictionary<string, string> { ["To"] = "+15550002", ["CallUUID"] = "abc", ["From"] = "+15550001" };
        var url = new Uri("https://voice.example.com/telephony/vobiz/inbound/demo?b=2&a=1");
        var signature = WebhookSignatures.VobizV3("token", url, form, "nonce-1");
        // The query's order and the parameters' order do not matter; their values, the URL, the nonce and the key do.
        Assert.Equal(signature, WebhookSignatures.VobizV3("token", new Uri("https://voice.example.com/telephony/vobiz/inbound/demo?a=1&b=2"), form.Reverse(), "nonce-1"));
        Assert.NotEqual(signature, WebhookSignatures.VobizV3("token", url, new Dictionary<string, string>(form) { ["From"] = "+15550009" }, "nonce-1"));
        Assert.NotEqual(signature, WebhookSignatures.VobizV3("token", url, form, "nonce-2"));
        Assert.NotEqual(signature, WebhookSignatures.VobizV3("other", url, form, "nonce-1"));
        Assert.True(WebhookSignatures.Matches($"x, {signature}", signature));
    }

    [Fact]
    public void A_stream_token_opens_only_its_call_for_its_agent_and_provider_and_only_for_a_while()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var tokens = new StreamTokens(new EphemeralDataProtectionProvider(), clock);
        var call = Guid.NewGuid();
        var token = tokens.Issue(call, "demo", TelephonyProvider.Vobiz);

        Assert.Equal((call, (string?)null), tokens.Check(token, "demo", TelephonyProvider.Vobiz));
        Assert.Contains("another agent", tokens.Check(token, "other", TelephonyProvider.Vobiz).Problem, StringComparison.Ordinal);
        Assert.Contains("another agent", tokens.Check(token, "demo", TelephonyProvider.Twilio).Problem, StringComparison.Ordinal);
        Assert.Contains("not valid", tokens.Check(token[..^3] + "AAA", "demo", TelephonyProvider.Vobiz).Problem, StringComparison.Ordinal);
        Assert.Contains("no token", tokens.Check(null, "demo", TelephonyProvider.Vobiz).Problem, StringComparison.Ordinal);
        Assert.Contains("not valid", new StreamTokens(new EphemeralDataProtectionProvider(), clock).Check(token, "demo", TelephonyProvider.Vobiz).Problem, StringComparison.Ordinal);

        clock.Advance(StreamTokens.Lifetime + TimeSpan.FromSeconds(1));
        Assert.Contains("expired", tokens.Check(token, "demo", TelephonyProvider.Vobiz).Problem, StringComparison.Ordinal);
    }
}
