using System.Security;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Calls;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>
/// <c>/telephony/{provider}/inbound/{agent}</c>: the provider tells us a call came in; we create the call row
/// (ringing) and answer with the provider's markup that opens the bidirectional media stream to
/// <c>/ws/{provider}/{agent}</c> carrying the call id: TwiML <c>&lt;Connect&gt;&lt;Stream&gt;</c> with a
/// <c>&lt;Parameter&gt;</c> (Twilio drops query strings), Vobiz XML <c>&lt;Stream bidirectional&gt;</c>, and for
/// Exotel's Voicebot applet (dynamic URL) a JSON answer with the socket URL.
/// Signature checks, stream tokens and concurrency slots come with the telephony settings (issue 5).
/// </summary>
public static class InboundEndpoints
{
    public static IEndpointRouteBuilder MapInboundEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/telephony/{provider}/inbound/{agent}", ["GET", "POST"], HandleAsync).DisableAntiforgery().ExcludeFromDescription();
        // A phone number's own webhook (the URL the phone-number API shows): the number's inbound agent answers.
        app.MapMethods("/telephony/{provider}/number/{id:guid}", ["GET", "POST"], async (HttpContext http, string provider, Guid id,
                IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, WebhookVerifier verifier, StreamTokens tokens,
                TimeProvider clock, ILoggerFactory logs) =>
            {
                string? agent;
                await using (var db = await dbFactory.CreateDbContextAsync(http.RequestAborted))
                {
                    var number = await db.PhoneNumbers.AsNoTracking().Where(n => n.Id == id)
                        .Select(n => new { n.Number, n.Provider, Agent = n.InboundAgent == null ? null : n.InboundAgent.Name }).FirstOrDefaultAsync(http.RequestAborted);
                    if (number is null || EnumNames.Of(number.Provider) != provider)
                    {
                        return Results.Json(new { detail = $"no {provider} phone number {id}" }, statusCode: StatusCodes.Status404NotFound);
                    }
                    if (number.Agent is null)
                    {
                        return Results.Json(new { detail = $"{number.Number} has no inbound agent: set one with PATCH /api/phone-numbers/{id}" }, statusCode: StatusCodes.Status404NotFound);
                    }
                    agent = number.Agent;
                }
                return await HandleAsync(http, provider, agent, dbFactory, accounts, verifier, tokens, clock, logs);
            }).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext http, string provider, string agent,
        IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, WebhookVerifier verifier, StreamTokens tokens,
        TimeProvider clock, ILoggerFactory logs)
    {
        if (!MediaEndpoints.TryProvider(provider, out var kind))
        {
            return Results.Json(new { detail = $"unknown provider '{provider}': use twilio, exotel or vobiz" }, statusCode: StatusCodes.Status404NotFound);
        }
        var logger = logs.CreateLogger(typeof(InboundEndpoints));
        if (await ReadFieldsAsync(http.Request) is not { } read)
        {
            return Results.Json(new { detail = "the request body is not valid JSON" }, statusCode: StatusCodes.Status400BadRequest);
        }
        var (fields, form) = read;
        if (await verifier.CheckAsync(http.Request, kind, form, http.RequestAborted) is { } refused)
        {
            logger.LogWarning("Refused a {Provider} inbound webhook for agent {Agent} from {Address}: {Reason}", provider, agent, http.Connection.RemoteIpAddress, refused);
            return Results.Json(new { detail = $"webhook refused: {refused}" }, statusCode: StatusCodes.Status403Forbidden);
        }
        await using var db = await dbFactory.CreateDbContextAsync(http.RequestAborted);
        var agentRow = await db.Agents.AsNoTracking().Where(a => a.Name == agent).Select(a => new { a.Id, a.Name }).FirstOrDefaultAsync(http.RequestAborted);
        if (agentRow is null)
        {
            return Results.Json(new { detail = $"agent '{agent}' does not exist" }, statusCode: StatusCodes.Status404NotFound);
        }
        var version = await db.FlowVersions.AsNoTracking().Where(v => v.AgentId == agentRow.Id)
            .OrderByDescending(v => v.Version).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(http.RequestAborted);
        var providerCallId = First(fields, "CallSid", "CallUUID", "call_sid", "CallId");
        var now = clock.GetUtcNow();
        var call = new Call
        {
            Id = Guid.CreateVersion7(),
            AgentId = agentRow.Id,
            AgentName = agentRow.Name,
            FlowVersionId = version,
            Provider = kind,
            ProviderCallId = providerCallId,
            Direction = CallDirection.Inbound,
            FromNumber = First(fields, "From", "CallFrom", "from"),
            ToNumber = First(fields, "To", "CallTo", "to"),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Calls.Add(call);
        await db.SaveChangesAsync(http.RequestAborted);
        logger.LogInformation("Inbound {Provider} call {CallId} for agent {Agent} from {From} (provider id {ProviderCallId})",
            provider, call.Id, agent, call.FromNumber, providerCallId);

        return StreamMarkup(kind, SocketBase(http.Request, await accounts.ConfiguredPublicBaseUrlAsync(http.RequestAborted)), agent, call.Id, tokens.Issue(call.Id, agent, kind));
    }

    /// <summary>
    /// The provider's answer that opens the media stream for a call: TwiML <c>&lt;Connect&gt;&lt;Stream&gt;</c> with the
    /// call id and token as <c>&lt;Parameter&gt;</c>s (Twilio drops query strings), Vobiz XML with them in the socket
    /// URL, and Exotel's JSON with the URL.
    /// </summary>
    public static IResult StreamMarkup(TelephonyProvider kind, string socketBase, string agent, Guid callId, string token)
    {
        var socket = $"{socketBase}/ws/{EnumNames.Of(kind)}/{Uri.EscapeDataString(agent)}";
        var query = $"call_id={callId}&token={Uri.EscapeDataString(token)}";
        return kind switch
        {
            TelephonyProvider.Twilio => Results.Content($"""
                <?xml version="1.0" encoding="UTF-8"?>
                <Response><Connect><Stream url="{SecurityElement.Escape(socket)}"><Parameter name="call_id" value="{callId}"/><Parameter name="token" value="{SecurityElement.Escape(token)}"/></Stream></Connect></Response>
                """, "application/xml"),
            TelephonyProvider.Vobiz => Results.Content($"""
                <?xml version="1.0" encoding="UTF-8"?>
                <Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">{SecurityElement.Escape($"{socket}?{query}")}</Stream></Response>
                """, "application/xml"),
            _ => Results.Json(new { url = $"{socket}?{query}&sample-rate=8000" }),
        };
    }

    /// <summary>The ws(s):// origin providers reach us on: PUBLIC_BASE_URL, else the host the webhook came to.</summary>
    public static string SocketBase(HttpRequest request, string? publicBaseUrl) =>
        SocketBase(string.IsNullOrWhiteSpace(publicBaseUrl) ? $"{request.Scheme}://{request.Host}" : publicBaseUrl);

    /// <summary>The ws(s):// form of an http(s):// origin.</summary>
    public static string SocketBase(string origin)
    {
        origin = origin.TrimEnd('/');
        return origin.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? "wss://" + origin[8..]
            : origin.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "ws://" + origin[7..]
            : origin;
    }

    /// <summary>Every field of the request (query, form or JSON) and, apart, the form fields a signature covers.</summary>
    private static async Task<(Dictionary<string, string> Fields, List<KeyValuePair<string, string>> Form)?> ReadFieldsAsync(HttpRequest request)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var form = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in request.Query)
        {
            fields[name] = value.ToString();
        }
        if (request.HasFormContentType)
        {
            foreach (var (name, value) in await request.ReadFormAsync(request.HttpContext.RequestAborted))
            {
                fields[name] = value.ToString();
                form.Add(KeyValuePair.Create(name, value.ToString()));
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                using var json = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in json.RootElement.EnumerateObject())
                    {
                        fields[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                    }
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return (fields, form);
    }

    private static string? First(Dictionary<string, string> fields, params string[] names) =>
        names.Select(fields.GetValueOrDefault).FirstOrDefault(v => !string.IsNullOrEmpty(v));
}
