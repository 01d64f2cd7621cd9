using System.Security;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Flows;
using VoiceStudio.Web.Features.Auth;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>
/// Outbound calls and what providers report back (SPEC §4, §8): <c>POST /api/calls/outbound</c> places a call through
/// the provider's REST API; <c>/telephony/{provider}/status</c> takes status callbacks (signed like webhooks, applied
/// idempotently and never backwards); Vobiz's answer and transfer URLs answer with its XML.
/// </summary>
public static class OutboundEndpoints
{
    public static IEndpointRouteBuilder MapOutboundEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/calls/outbound", PlaceAsync)
            .RequireAuthorization(AuthSetup.Designers)
            .WithTags("calls")
            .WithSummary("Place an outbound call: {phone_number (E.164), agent_name, caller_id?, provider?, custom_parameters?}");

        app.MapPost("/telephony/{provider}/status", StatusAsync).DisableAntiforgery().ExcludeFromDescription();

        app.MapPost("/telephony/vobiz/answer/{callId:guid}", async (HttpContext http, Guid callId, IDbContextFactory<VoiceStudioDbContext> dbFactory,
            WebhookVerifier verifier, TelephonyAccounts accounts, StreamTokens tokens, ILoggerFactory logs) =>
        {
            if (await RefuseAsync(http, TelephonyProvider.Vobiz, verifier, logs) is { } refused)
            {
                return refused;
            }
            await using var db = await dbFactory.CreateDbContextAsync(http.RequestAborted);
            var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId && c.Provider == TelephonyProvider.Vobiz, http.RequestAborted);
            if (call is null || call.AgentName is null)
            {
                return Api.NotFound($"no vobiz call {callId}");
            }
            return InboundEndpoints.StreamMarkup(TelephonyProvider.Vobiz, InboundEndpoints.SocketBase(await accounts.PublicBaseUrlAsync(http.Request, http.RequestAborted)),
                call.AgentName, call.Id, tokens.Issue(call.Id, call.AgentName, TelephonyProvider.Vobiz));
        }).DisableAntiforgery().ExcludeFromDescription();

        app.MapPost("/telephony/vobiz/transfer/{callId:guid}", async (HttpContext http, Guid callId, string? number, WebhookVerifier verifier, ILoggerFactory logs) =>
        {
            if (await RefuseAsync(http, TelephonyProvider.Vobiz, verifier, logs) is { } refused)
            {
                return refused;
            }
            if (number is null || TelephonySettingsEndpoints.E164(number) is not { } e164)
            {
                return Api.BadRequest("number must be a phone number in E.164 form");
            }
            return Results.Content($"""
                <?xml version="1.0" encoding="UTF-8"?>
                <Response><Dial><Number>{SecurityElement.Escape(e164.TrimStart('+'))}</Number></Dial></Response>
                """, "application/xml");
        }).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult?> RefuseAsync(HttpContext http, TelephonyProvider provider, WebhookVerifier verifier, ILoggerFactory logs)
    {
        var form = http.Request.HasFormContentType
            ? (await http.Request.ReadFormAsync(http.RequestAborted)).Select(p => KeyValuePair.Create(p.Key, p.Value.ToString())).ToList()
            : [];
        if (await verifier.CheckAsync(http.Request, provider, form, http.RequestAborted) is not { } problem)
        {
            return null;
        }
        logs.CreateLogger(typeof(OutboundEndpoints)).LogWarning("Refused a {Provider} request to {Path}: {Reason}", EnumNames.Of(provider), http.Request.Path, problem);
        return Results.Json(new { detail = $"request refused: {problem}" }, statusCode: StatusCodes.Status403Forbidden);
    }

    private static async Task<IResult> PlaceAsync(HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts,
        ConcurrencySlots slots, StreamTokens tokens, ProviderApi providers, TimeProvider clock, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
        if (body is null)
        {
            return Api.BadRequest(error!);
        }
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        string? Text(string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Trim().Length > 0 ? s.Trim() : null;

        var to = Text("phone_number");
        var e164 = to is null ? null : TelephonySettingsEndpoints.E164(to);
        if (e164 is null)
        {
            Problem("phone_number", to is null ? "is required" : $"'{to}' is not a phone number in E.164 form (like +14155550123)");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var agentName = Text("agent_name");
        var agent = agentName is null ? null : await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Name == agentName, cancellationToken);
        if (agent is null)
        {
            Problem("agent_name", agentName is null ? "is required" : $"agent '{agentName}' does not exist");
        }
        var shared = await db.TelephonySettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        var providerName = Text("provider") ?? EnumNames.Of(shared?.DefaultProvider ?? TelephonyProvider.Twilio);
        if (!Calls.MediaEndpoints.TryProvider(providerName, out var provider))
        {
            Problem("provider", $"'{providerName}' is not twilio, exotel or vobiz");
        }
        var custom = new Dictionary<string, string>(StringComparer.Ordinal);
        if (body["custom_parameters"] is JsonObject parameters)
        {
            foreach (var (name, value) in parameters)
            {
                if (value is JsonValue v && (v.TryGetValue<string>(out var s) || v.TryGetValue<double>(out _) || v.TryGetValue<bool>(out _)))
                {
                    custom[name] = s ?? v.ToJsonString();
                }
                else
                {
                    Problem($"custom_parameters.{name}", "must be a string, number or boolean");
                }
            }
        }
        else if (body["custom_parameters"] is not null)
        {
            Problem("custom_parameters", "must be an object of names to values");
        }
        if (problems.Count > 0)
        {
            return Api.Invalid(problems);
        }

        var account = await accounts.GetAsync(provider, cancellationToken);
        if (ProviderApi.Missing(account) is { } missing)
        {
            return Api.Problem(StatusCodes.Status400BadRequest, $"{providerName} is not set up to place calls: it needs {missing} (PUT /api/settings/telephony)");
        }
        var callerId = Text("caller_id") ?? account.PhoneNumber;
        if (callerId is null || TelephonySettingsEndpoints.E164(callerId) is not { } from)
        {
            return Api.Invalid([new FlowProblem(null, "caller_id", callerId is null
                ? $"is required: {providerName} has no phone number in the settings"
                : $"'{callerId}' is not a phone number in E.164 form")]);
        }
        if (await slots.CountAsync(provider) >= account.MaxConcurrent)
        {
            return Api.Problem(StatusCodes.Status503ServiceUnavailable, $"{providerName} is at its limit of {account.MaxConcurrent} concurrent calls; try again later");
        }

        var now = clock.GetUtcNow();
        var version = await db.FlowVersions.AsNoTracking().Where(v => v.AgentId == agent!.Id).OrderByDescending(v => v.Version).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(cancellationToken);
        var call = new Call
        {
            Id = Guid.CreateVersion7(),
            AgentId = agent!.Id,
            AgentName = agent.Name,
            FlowVersionId = version,
            Provider = provider,
            Direction = CallDirection.Outbound,
            FromNumber = from,
            ToNumber = e164,
            ContextVariables = JsonSerializer.Serialize(custom),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Calls.Add(call);
        await db.SaveChangesAsync(cancellationToken);

        var publicBase = await accounts.PublicBaseUrlAsync(request, cancellationToken);
        var answer = await providers.DialAsync(account, new Dial(e164!, from, call.Id, agent.Name, tokens.Issue(call.Id, agent.Name, provider), publicBase, custom), cancellationToken);
        var logger = logs.CreateLogger(typeof(OutboundEndpoints));
        if (!answer.Ok)
        {
            call.Status = CallStatus.Failed;
            call.EndReason = $"{providerName} refused the call: {answer.Message}";
            call.EndedAt = call.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            logger.LogWarning("Outbound {Provider} call {CallId} to {To} failed: {Reason}", providerName, call.Id, e164, answer.Message);
            // The provider refused what we asked (4xx): the caller's request is at fault. Anything else is a gateway failure.
            var status = answer.Status is >= 400 and < 500 and not (401 or 403) ? StatusCodes.Status400BadRequest : StatusCodes.Status502BadGateway;
            return Results.Json(new
            {
                detail = call.EndReason,
                call_id = call.Id,
                provider_status = answer.Status == 0 ? (int?)null : answer.Status,
                provider_response = answer.Body,
            }, statusCode: status);
        }
        call.ProviderCallId = answer.ProviderCallId;
        call.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Outbound {Provider} call {CallId} to {To} for agent {Agent} placed (provider id {ProviderCallId})", providerName, call.Id, e164, agent.Name, answer.ProviderCallId);
        return Results.Json(new { status = "queued", call_id = call.Id, provider = providerName, provider_call_id = answer.ProviderCallId, provider_response = answer.Body },
            statusCode: StatusCodes.Status201Created);
    }

    /// <summary>Provider statuses in our terms (SPEC §3), each with its rank: a status never moves a call backwards.</summary>
    public static (CallStatus Status, int Rank)? MapStatus(string? status) => status?.Trim().ToLowerInvariant().Replace('_', '-') switch
    {
        "queued" or "initiated" or "ringing" or "ring" => (CallStatus.Ringing, 0),
        "in-progress" or "answered" or "answer" => (CallStatus.InProgress, 1),
        "completed" or "hangup" => (CallStatus.Completed, 2),
        "busy" => (CallStatus.Busy, 2),
        "no-answer" or "noanswer" or "timeout" => (CallStatus.NoAnswer, 2),
        "failed" or "canceled" or "cancel" or "cancelled" => (CallStatus.Failed, 2),
        _ => null,
    };

    private static int Rank(CallStatus status) => status switch
    {
        CallStatus.Ringing => 0,
        CallStatus.InProgress => 1,
        _ => 2,
    };

    private static async Task<IResult> StatusAsync(HttpContext http, string provider, Guid? call_id, IDbContextFactory<VoiceStudioDbContext> dbFactory,
        WebhookVerifier verifier, TimeProvider clock, ILoggerFactory logs)
    {
        if (!Calls.MediaEndpoints.TryProvider(provider, out var kind))
        {
            return Api.NotFound($"unknown provider '{provider}'");
        }
        if (await RefuseAsync(http, kind, verifier, logs) is { } refused)
        {
            return refused;
        }
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        string? Field(params string[] names) => names.Select(n => form?[n].ToString() is { Length: > 0 } v ? v : http.Request.Query[n].ToString()).FirstOrDefault(v => v.Length > 0);
        var reported = Field("CallStatus", "Status", "call_status", "Event");
        if (MapStatus(reported) is not { } mapped)
        {
            return Api.BadRequest($"status '{reported}' is not a call status this endpoint knows");
        }
        var providerCallId = Field("CallSid", "CallUUID", "RequestUUID", "call_sid");
        await using var db = await dbFactory.CreateDbContextAsync(http.RequestAborted);
        var call = call_id is { } id
            ? await db.Calls.FirstOrDefaultAsync(c => c.Id == id && c.Provider == kind, http.RequestAborted)
            : providerCallId is null ? null : await db.Calls.FirstOrDefaultAsync(c => c.ProviderCallId == providerCallId && c.Provider == kind, http.RequestAborted);
        if (call is null)
        {
            return Api.NotFound($"no {provider} call {(object?)call_id ?? providerCallId}");
        }
        var now = clock.GetUtcNow();
        var applied = mapped.Rank > Rank(call.Status);
        if (applied)
        {
            call.Status = mapped.Status;
            if (mapped.Rank == 1)
            {
                call.StartedAt ??= now;
            }
            if (mapped.Rank == 2)
            {
                call.EndedAt ??= now;
                call.EndReason ??= $"{provider} reported {reported}";
                if (call.StartedAt is { } started)
                {
                    call.DurationSeconds ??= Math.Max(0, (call.EndedAt.Value - started).TotalSeconds);
                }
            }
            call.ProviderCallId ??= providerCallId;
            call.UpdatedAt = now;
            await db.SaveChangesAsync(http.RequestAborted);
        }
        logs.CreateLogger(typeof(OutboundEndpoints)).LogInformation("{Provider} reported call {CallId} {Reported}: {Outcome}", provider, call.Id, reported,
            applied ? $"now {EnumNames.Of(call.Status)}" : $"kept {EnumNames.Of(call.Status)}");
        return Results.Json(new { call_id = call.Id, status = EnumNames.Of(call.Status), applied });
    }
}
