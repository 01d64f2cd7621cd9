using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>What a provider's REST API answered: whether it worked, its HTTP status, its message and body.</summary>
public sealed record ProviderAnswer(bool Ok, int Status, string Message, JsonNode? Body, string? ProviderCallId = null)
{
    /// <summary>The provider had already ended the call (hang-up of a call that is gone is not an error).</summary>
    public bool AlreadyEnded { get; init; }
}

/// <summary>An outbound call to place: who, from which number, and where the provider should ask what to do.</summary>
public sealed record Dial(string To, string From, Guid CallId, string Agent, string StreamToken, string PublicBaseUrl, IReadOnlyDictionary<string, string> CustomParameters);

/// <summary>
/// The providers' REST APIs (SPEC §5, issue 5), each spoken exactly as the provider documents it, with the
/// account from the settings. Twilio: Calls.json with inline TwiML and a status callback, hang-up by
/// <c>Status=completed</c>, transfer by new TwiML with <c>&lt;Dial&gt;</c>. Exotel: <c>Calls/connect</c> into the
/// account's Voicebot app; it has no REST hang-up or transfer (the stream is closed instead). Vobiz: <c>Call/</c>
/// with an answer URL, hang-up by DELETE, transfer by pointing the live call's A leg at new XML.
/// </summary>
public sealed class ProviderApi(IHttpClientFactory clients, ILogger<ProviderApi> logger)
{
    public const string TwilioDefaultBase = "https://api.twilio.com";
    public const string ExotelDefaultBase = "https://api.exotel.com";
    public const string VobizDefaultBase = "https://api.vobiz.ai/api/v1";

    public static bool CanTransfer(TelephonyProvider provider) => provider is TelephonyProvider.Twilio or TelephonyProvider.Vobiz;

    /// <summary>What the account lacks to place calls, or null.</summary>
    public static string? Missing(ProviderAccount account) => account.Provider switch
    {
        _ when account.AccountId is null => "an account id",
        _ when account.AuthToken is null => "an auth token",
        TelephonyProvider.Exotel when account.ApiKey is null => "an API key",
        TelephonyProvider.Exotel when account.AppId is null => "the app id of the Voicebot flow outbound calls connect to",
        _ => null,
    };

    public async Task<ProviderAnswer> DialAsync(ProviderAccount account, Dial dial, CancellationToken cancellationToken)
    {
        var status = $"{dial.PublicBaseUrl}/telephony/{EnumNames.Of(account.Provider)}/status?call_id={dial.CallId}";
        if (account.Provider == TelephonyProvider.Exotel && account.WebhookSecret is { } secret)
        {
            status += $"&secret={Uri.EscapeDataString(secret)}"; // Exotel does not sign its callbacks: the secret in the URL is the check
        }
        switch (account.Provider)
        {
            case TelephonyProvider.Twilio:
                var socket = $"{InboundEndpoints.SocketBase(dial.PublicBaseUrl)}/ws/twilio/{Uri.EscapeDataString(dial.Agent)}";
                var parameters = new StringBuilder();
                parameters.Append(CultureInvariant($"<Parameter name=\"call_id\" value=\"{dial.CallId}\"/><Parameter name=\"token\" value=\"{SecurityElement.Escape(dial.StreamToken)}\"/>"));
                foreach (var (name, value) in dial.CustomParameters)
                {
                    parameters.Append(CultureInvariant($"<Parameter name=\"{SecurityElement.Escape(name)}\" value=\"{SecurityElement.Escape(value)}\"/>"));
                }
                var form = new List<KeyValuePair<string, string>>
                {
                    new("To", dial.To),
                    new("From", dial.From),
                    new("Twiml", $"<Response><Connect><Stream url=\"{SecurityElement.Escape(socket)}\">{parameters}</Stream></Connect></Response>"),
                    new("StatusCallback", status),
                    new("StatusCallbackMethod", "POST"),
                };
                form.AddRange(new[] { "initiated", "ringing", "answered", "completed" }.Select(e => KeyValuePair.Create("StatusCallbackEvent", e)));
                var twilio = await SendAsync(account, HttpMethod.Post, $"/2010-04-01/Accounts/{account.AccountId}/Calls.json", new FormUrlEncodedContent(form), cancellationToken);
                return twilio with { ProviderCallId = twilio.Body?["sid"]?.GetValue<string>() };
            case TelephonyProvider.Exotel:
                var exotel = await SendAsync(account, HttpMethod.Post, $"/v1/Accounts/{account.AccountId}/Calls/connect.json", new FormUrlEncodedContent(
                [
                    new("From", dial.To),
                    new("CallerId", dial.From),
                    new("Url", $"http://my.exotel.com/{account.AccountId}/exoml/start_voice/{account.AppId}"),
                    new("CustomField", dial.CallId.ToString()),
                    new("StatusCallback", status),
                ]), cancellationToken);
                return exotel with { ProviderCallId = exotel.Body?["Call"]?["Sid"]?.GetValue<string>() };
            case TelephonyProvider.Vobiz:
                var vobiz = await SendAsync(account, HttpMethod.Post, $"/Account/{account.AccountId}/Call/", JsonContent.Create(new JsonObject
                {
                    ["from"] = dial.From.TrimStart('+'),
                    ["to"] = dial.To.TrimStart('+'),
                    ["answer_url"] = $"{dial.PublicBaseUrl}/telephony/vobiz/answer/{dial.CallId}",
                    ["answer_method"] = "POST",
                    ["hangup_url"] = status,
                    ["hangup_method"] = "POST",
                    ["ring_url"] = status,
                    ["ring_method"] = "POST",
                }), cancellationToken);
                return vobiz with { ProviderCallId = vobiz.Body?["request_uuid"]?.ToString() };
            default:
                return new ProviderAnswer(false, 0, $"{EnumNames.Of(account.Provider)} cannot place calls", null);
        }
    }

    /// <summary>Ends a live call through the provider (Twilio, Vobiz); a call the provider already ended counts as done.</summary>
    public async Task<ProviderAnswer> HangUpAsync(ProviderAccount account, string providerCallId, CancellationToken cancellationToken)
    {
        var answer = account.Provider switch
        {
            TelephonyProvider.Twilio => await SendAsync(account, HttpMethod.Post, $"/2010-04-01/Accounts/{account.AccountId}/Calls/{Uri.EscapeDataString(providerCallId)}.json",
                new FormUrlEncodedContent([new("Status", "completed")]), cancellationToken),
            TelephonyProvider.Vobiz => await SendAsync(account, HttpMethod.Delete, $"/Account/{account.AccountId}/Call/{Uri.EscapeDataString(providerCallId)}/", null, cancellationToken),
            _ => new ProviderAnswer(false, 0, $"{EnumNames.Of(account.Provider)} has no REST hang-up; the stream is closed instead", null),
        };
        return answer.Status == (int)HttpStatusCode.NotFound ? answer with { Ok = true, AlreadyEnded = true, Message = "the provider had already ended the call" } : answer;
    }

    /// <summary>Sends the live call to <paramref name="number"/> (Twilio, Vobiz).</summary>
    public async Task<ProviderAnswer> TransferAsync(ProviderAccount account, string providerCallId, Guid callId, string number, string publicBaseUrl, CancellationToken cancellationToken) =>
        account.Provider switch
        {
            TelephonyProvider.Twilio => await SendAsync(account, HttpMethod.Post, $"/2010-04-01/Accounts/{account.AccountId}/Calls/{Uri.EscapeDataString(providerCallId)}.json",
                new FormUrlEncodedContent([new("Twiml", $"<Response><Dial>{SecurityElement.Escape(number)}</Dial></Response>")]), cancellationToken),
            TelephonyProvider.Vobiz => await SendAsync(account, HttpMethod.Post, $"/Account/{account.AccountId}/Call/{Uri.EscapeDataString(providerCallId)}/", JsonContent.Create(new JsonObject
            {
                ["legs"] = "aleg",
                ["aleg_url"] = $"{publicBaseUrl}/telephony/vobiz/transfer/{callId}?number={Uri.EscapeDataString(number)}",
                ["aleg_method"] = "POST",
            }), cancellationToken),
            _ => new ProviderAnswer(false, 0, $"{EnumNames.Of(account.Provider)} cannot transfer a live call", null),
        };

    private async Task<ProviderAnswer> SendAsync(ProviderAccount account, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var baseUrl = (account.ApiBaseUrl ?? account.Provider switch
        {
            TelephonyProvider.Twilio => TwilioDefaultBase,
            TelephonyProvider.Exotel => ExotelDefaultBase,
            _ => VobizDefaultBase,
        }).TrimEnd('/');
        using var request = new HttpRequestMessage(method, baseUrl + path) { Content = content };
        if (account.Provider == TelephonyProvider.Vobiz)
        {
            request.Headers.Add("X-Auth-ID", account.AccountId);
            request.Headers.Add("X-Auth-Token", account.AuthToken);
        }
        else
        {
            var user = account.Provider == TelephonyProvider.Exotel ? account.ApiKey : account.AccountId;
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{account.AuthToken}")));
        }
        var http = clients.CreateClient(nameof(ProviderApi));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? body = null;
            try
            {
                body = text.Length > 0 ? JsonNode.Parse(text) : null;
            }
            catch (JsonException)
            {
                // some answers (DELETE, errors from proxies) are not JSON
            }
            var status = (int)response.StatusCode;
            var message = response.IsSuccessStatusCode ? "ok" : ErrorMessage(body, text, status);
            if (!response.IsSuccessStatusCode && status != 404)
            {
                logger.LogWarning("{Provider} {Method} {Path} answered {Status}: {Message}", EnumNames.Of(account.Provider), method, path, status, message);
            }
            return new ProviderAnswer(response.IsSuccessStatusCode, status, message, body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("{Provider} {Method} {Path} failed: {Reason}", EnumNames.Of(account.Provider), method, path, e.Message);
            return new ProviderAnswer(false, 0, $"could not reach {EnumNames.Of(account.Provider)} at {baseUrl}: {e.Message}", null);
        }
    }

    /// <summary>The provider's own words: Twilio <c>message</c>, Exotel <c>RestException.Message</c>, Vobiz <c>error</c>/<c>message</c>.</summary>
    private static string ErrorMessage(JsonNode? body, string text, int status)
    {
        string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return Text(body?["message"]) ?? Text(body?["RestException"]?["Message"]) ?? Text(body?["error"])
            ?? (text.Length is > 0 and < 300 ? text : $"HTTP {status}");
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
