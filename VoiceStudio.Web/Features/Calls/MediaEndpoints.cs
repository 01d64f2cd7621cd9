using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Diagnostics;
using VoiceStudio.Media.Flows;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Telephony;
using VoiceStudio.Media.Telephony.Browser;
using VoiceStudio.Media.Telephony.Exotel;
using VoiceStudio.Media.Telephony.Twilio;
using VoiceStudio.Media.Telephony.Vobiz;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Agents;
using VoiceStudio.Web.Features.Telephony;
using CallContext = VoiceStudio.Media.Flows.CallContext;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>
/// The provider media sockets, <c>/ws/{provider}/{agent}</c> (SPEC §4, §5): each accepted socket becomes one
/// <see cref="CallSession"/> running the agent's flow through <see cref="FlowConversation"/>, reporting to a
/// <see cref="CallRecordWriter"/>. The stream is tied to its call row when its start message arrives: the
/// <c>call_id</c> the inbound webhook put in the stream's parameters (Twilio) or URL (Exotel, Vobiz), or a new
/// inbound row when the provider connects directly (an Exotel Voicebot applet pointing at the socket URL).
/// </summary>
public static class MediaEndpoints
{
    public static IEndpointRouteBuilder MapMediaEndpoints(this IEndpointRouteBuilder app)
    {
        app.Map("/ws/{provider}/{agent}", async (HttpContext http, string provider, string agent, AgentRuntimeLoader loader, CallHost host,
            StreamTokens tokens, WebhookVerifier verifier, TelephonyAccounts accounts, ConcurrencySlots slots) =>
        {
            if (!TryProvider(provider, out var kind))
            {
                return Results.Json(new { detail = $"unknown provider '{provider}': use twilio, exotel or vobiz" }, statusCode: StatusCodes.Status404NotFound);
            }
            if (!http.WebSockets.IsWebSocketRequest)
            {
                return Results.Json(new { detail = "this endpoint is a media WebSocket: connect with a WebSocket upgrade" }, statusCode: StatusCodes.Status400BadRequest);
            }
            var sampleRate = 8000;
            if (kind == TelephonyProvider.Exotel && http.Request.Query["sample-rate"] is { Count: > 0 } rate
                && (!int.TryParse(rate, out sampleRate) || sampleRate is not (8000 or 16000 or 24000)))
            {
                return Results.Json(new { detail = "sample-rate must be 8000, 16000 or 24000" }, statusCode: StatusCodes.Status400BadRequest);
            }
            var runtime = await loader.LoadAsync(agent, http.RequestAborted);
            if (runtime is null)
            {
                return Results.Json(new { detail = $"agent '{agent}' does not exist" }, statusCode: StatusCodes.Status404NotFound);
            }
            Guid? callId = null;
            if (http.Request.Query["call_id"] is { Count: > 0 } given)
            {
                if (!Guid.TryParse(given, out var parsed))
                {
                    return Results.Json(new { detail = "call_id is not a call id" }, statusCode: StatusCodes.Status400BadRequest);
                }
                callId = parsed;
            }
            // Exotel and Vobiz carry the stream token in the URL: checked before the upgrade. Twilio sends it in the
            // start message's parameters, checked before any audio (CallHost).
            if (verifier.Enabled && kind != TelephonyProvider.Twilio)
            {
                var token = http.Request.Query["token"].ToString();
                var staticExotel = kind == TelephonyProvider.Exotel && token.Length == 0
                    && WebhookVerifier.CheckExotel(http.Request, await accounts.GetAsync(kind, http.RequestAborted)) is null;
                if (!staticExotel)
                {
                    var (tokenCall, problem) = tokens.Check(token, agent, kind);
                    if (problem is null && callId is { } named && named != tokenCall)
                    {
                        problem = "call_id does not match the stream token";
                    }
                    if (problem is not null)
                    {
                        host.Logger.LogWarning("Refused a {Provider} media socket for agent {Agent} from {Address}: {Reason}", provider, agent, http.Connection.RemoteIpAddress, problem);
                        return Results.Json(new { detail = $"stream refused: {problem}" }, statusCode: StatusCodes.Status401Unauthorized);
                    }
                    callId = tokenCall;
                }
            }
            // A concurrency slot for the provider, across every instance, before the socket is accepted.
            var holder = Guid.NewGuid().ToString("N");
            var limit = (await accounts.GetAsync(kind, http.RequestAborted)).MaxConcurrent;
            bool admitted;
            try
            {
                admitted = await slots.TryAcquireAsync(kind, holder, limit);
            }
            catch (StackExchange.Redis.RedisException e)
            {
                host.Logger.LogError("Could not reserve a {Provider} concurrency slot: {Reason}", provider, e.Message);
                return Results.Json(new { detail = "cannot reserve a concurrency slot right now (Redis unavailable)" }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            if (!admitted)
            {
                host.Logger.LogWarning("Refused a {Provider} media socket for agent {Agent}: {Limit} concurrent calls is the provider's limit", provider, agent, limit);
                return Results.Json(new { detail = $"{provider} is at its limit of {limit} concurrent calls" }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            try
            {
                using var socket = await http.WebSockets.AcceptWebSocketAsync();
                var publicBase = await accounts.PublicBaseUrlAsync(http.Request, http.RequestAborted);
                await host.RunAsync(new WebSocketTransport(socket, host.Logger), kind, sampleRate, runtime, callId, publicBase, http.RequestAborted);
            }
            finally
            {
                await ReleaseAsync(slots, kind, holder, host.Logger);
            }
            return Results.Empty;
        }).ExcludeFromDescription();
        return app;
    }

    private static async Task ReleaseAsync(ConcurrencySlots slots, TelephonyProvider provider, string holder, ILogger logger)
    {
        try
        {
            await slots.ReleaseAsync(provider, holder);
        }
        catch (StackExchange.Redis.RedisException e)
        {
            // the slot stays until this instance's heartbeat expires (or it releases on a later try)
            logger.LogWarning("Could not release a {Provider} concurrency slot: {Reason}", EnumNames.Of(provider), e.Message);
        }
    }

    public static bool TryProvider(string name, out TelephonyProvider provider)
    {
        provider = name switch
        {
            "twilio" => TelephonyProvider.Twilio,
            "exotel" => TelephonyProvider.Exotel,
            "vobiz" => TelephonyProvider.Vobiz,
            _ => TelephonyProvider.Browser,
        };
        return provider != TelephonyProvider.Browser;
    }

    public static TelephonySerializer Serializer(TelephonyProvider provider, int sampleRate) => provider switch
    {
        TelephonyProvider.Twilio => new TwilioSerializer(),
        TelephonyProvider.Exotel => new ExotelSerializer(sampleRate),
        TelephonyProvider.Vobiz => new VobizSerializer(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "not a telephony provider"),
    };
}

/// <summary>Runs calls: builds each call's session from the process's shared speech services and the agent.</summary>
public sealed class CallHost(
    IServiceProvider services,
    IDbContextFactory<VoiceStudioDbContext> dbFactory,
    VoiceActivityFactory vad,
    IToolInvoker tools,
    IOptions<VoiceStudioSettings> settings,
    StreamTokens tokens,
    TelephonyAccounts accounts,
    ProviderApi providers,
    AgentWebhooks webhooks,
    SpeechProviders speechProviders,
    SpeechAccounts speechAccounts,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<CallHost> logger)
{
    public ILogger Logger => logger;

    /// <summary>Runs one provider call on <paramref name="transport"/> to its end (the call row and events are written by then).</summary>
    public Task<CallEnd> RunAsync(ICallTransport transport, TelephonyProvider provider, int sampleRate, AgentRuntime agent, Guid? callId, string publicBaseUrl,
        CancellationToken aborted) =>
        RunCoreAsync(transport, MediaEndpoints.Serializer(provider, sampleRate), provider, agent, agent.Options, callId, writer => writer, aborted, publicBaseUrl);

    /// <summary>Runs one test call from the browser console (stored with <c>is_test</c>, reported live on the socket).</summary>
    public Task<CallEnd> RunTestAsync(BrowserTransport transport, AgentRuntime agent, string user, bool textOnly, CancellationToken aborted) =>
        RunCoreAsync(transport, new BrowserSerializer(user), TelephonyProvider.Browser, agent, agent.Options with { TextOnly = textOnly }, null,
            writer => new BrowserEvents(writer, transport, agent.Definition.Name, textOnly), aborted);

    private async Task<CallEnd> RunCoreAsync(ICallTransport transport, TelephonySerializer serializer, TelephonyProvider provider, AgentRuntime agent,
        CallSessionOptions options, Guid? callId, Func<CallRecordWriter, ICallObserver> observe, CancellationToken aborted, string publicBaseUrl = "")
    {
        var writer = new CallRecordWriter(callId ?? Guid.CreateVersion7(), agent.Definition.Name, services);
        var conversation = new FlowConversation(agent.Definition, tools, clock);
        using var owned = serializer;
        var speech = speechProviders.For(agent.Row, options.TextOnly ? new Dictionary<string, SpeechAccount>() : await speechAccounts.GetAsync(aborted),
            serializer.SampleRate, options.TextOnly, problem =>
        {
            logger.LogSpeechProviderFailed(writer.CallId, agent.Definition.Name, problem);
            writer.Traced(new Trace("error", new Dictionary<string, object?> { ["message"] = problem, ["source"] = "speech" }));
        }, muLawLine: serializer.Encoding == AudioEncoding.MuLaw && serializer.SampleRate == 8000);
        writer.UsageSource = () => speech.Usage;
        using ISpeechRecognizer recognizer = speech.Recognizer;
        using var voice = speech.Voice as IDisposable; // a provider's socket closes with the call
        var recordings = Path.GetFullPath(settings.Value.RecordingsDir);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        using var session = new CallSession(options, serializer, transport, conversation, recognizer, speech.Voice, vad, observe(writer),
            stream =>
            {
                var day = clock.GetUtcNow();
                return Path.Combine(recordings, day.ToString("yyyy"), day.ToString("MM"), day.ToString("dd"), $"{writer.CallId}.wav");
            },
            logger,
            (stream, cancellationToken) => AdmitAsync(stream, provider, agent, callId, writer, conversation, cancellationToken),
            end => EndThroughProviderAsync(end, provider, writer, publicBaseUrl));
        var end = await session.RunAsync(stopping.Token);
        var admitted = session.Stream is not null && !end.Reason.StartsWith("stream refused", StringComparison.Ordinal);
        if (!admitted)
        {
            writer.Abandon();
        }
        await writer.Completion;
        if (admitted)
        {
            webhooks.Fire(writer.CallId, "call_ended");
        }
        return end;
    }

    /// <summary>
    /// The agent ended the call: hang up (Twilio, Vobiz) or transfer (Twilio, Vobiz) through the provider's REST API,
    /// while the stream is still open. Exotel has neither: closing the stream ends its call, and a transfer is
    /// reported as an error. Only for accounts with credentials; the result goes into the call's events.
    /// </summary>
    private async ValueTask EndThroughProviderAsync(CallEnd end, TelephonyProvider provider, CallRecordWriter writer, string publicBaseUrl)
    {
        if (provider == TelephonyProvider.Browser)
        {
            return;
        }
        var account = await accounts.GetAsync(provider, CancellationToken.None);
        if (end.TransferTo is { } number && !ProviderApi.CanTransfer(provider))
        {
            writer.Traced(new Trace("error", new Dictionary<string, object?> { ["message"] = $"{EnumNames.Of(provider)} cannot transfer a live call to {number}; the call was ended instead", ["number"] = number }));
            return;
        }
        if (ProviderApi.Missing(account) is not null || provider == TelephonyProvider.Exotel)
        {
            return; // no REST account (local development, tests of the media path): closing the stream ends the call
        }
        await using var db = await dbFactory.CreateDbContextAsync();
        var providerCallId = await db.Calls.AsNoTracking().Where(c => c.Id == writer.CallId).Select(c => c.ProviderCallId).FirstOrDefaultAsync();
        if (providerCallId is null)
        {
            return;
        }
        if (end.TransferTo is { } to)
        {
            var transferred = await providers.TransferAsync(account, providerCallId, writer.CallId, to, publicBaseUrl, CancellationToken.None);
            writer.Traced(new Trace("transfer", new Dictionary<string, object?>
            {
                ["number"] = to,
                ["ok"] = transferred.Ok,
                ["provider_status"] = transferred.Status,
                ["message"] = transferred.Message,
            }));
            return;
        }
        var hungUp = await providers.HangUpAsync(account, providerCallId, CancellationToken.None);
        if (!hungUp.Ok)
        {
            writer.Traced(new Trace("warning", new Dictionary<string, object?> { ["message"] = $"the provider's hang-up failed: {hungUp.Message}", ["provider_status"] = hungUp.Status }));
        }
    }

    private async ValueTask<string?> AdmitAsync(StreamInfo stream, TelephonyProvider provider, AgentRuntime agent, Guid? fromUrl, CallRecordWriter writer,
        FlowConversation conversation, CancellationToken cancellationToken)
    {
        var callId = fromUrl;
        if (stream.Parameters.TryGetValue("call_id", out var fromParameters))
        {
            if (!Guid.TryParse(fromParameters, out var parsed))
            {
                return "the call_id parameter is not a call id";
            }
            callId = parsed;
        }
        if (provider == TelephonyProvider.Twilio && settings.Value.TelephonyVerifyRequests)
        {
            var (tokenCall, refused) = tokens.Check(stream.Parameters.GetValueOrDefault("token"), agent.Definition.Name, provider);
            if (refused is not null)
            {
                logger.LogWarning("Refused a twilio stream for agent {Agent} (call sid {CallSid}): {Reason}", agent.Definition.Name, stream.ProviderCallId, refused);
                return refused;
            }
            if (callId is { } named && named != tokenCall)
            {
                return "the call_id parameter does not match the stream token";
            }
            callId = tokenCall;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        Call call;
        if (callId is { } id)
        {
            var existing = await db.Calls.FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
            if (existing is null)
            {
                return $"call {id} does not exist";
            }
            if (existing.AgentName != agent.Definition.Name || existing.Provider != provider)
            {
                return $"call {id} belongs to another agent or provider";
            }
            if (existing.Status != CallStatus.Ringing)
            {
                return $"call {id} is {EnumNames.Of(existing.Status)}, not ringing: a stream may join it once";
            }
            call = existing;
            call.FlowVersionId ??= agent.FlowVersionId;
            call.UpdatedAt = now;
        }
        else
        {
            call = new Call
            {
                Id = writer.CallId,
                AgentId = agent.Definition.Id,
                AgentName = agent.Definition.Name,
                FlowVersionId = agent.FlowVersionId,
                Provider = provider,
                ProviderCallId = stream.ProviderCallId,
                Direction = CallDirection.Inbound,
                FromNumber = stream.From,
                ToNumber = stream.To,
                ContextVariables = JsonSerializer.Serialize(stream.Parameters.Where(p => p.Key is not ("call_id" or "token")).ToDictionary()),
                IsTest = provider == TelephonyProvider.Browser,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Calls.Add(call);
        }
        await db.SaveChangesAsync(cancellationToken);
        writer.Bind(call.Id);
        webhooks.Fire(call.Id, "call_started");
        var parameters = AgentRuntimeLoader.ParseVariables(call.ContextVariables);
        foreach (var (name, value) in stream.Parameters)
        {
            if (name is not ("call_id" or "token"))
            {
                parameters[name] = value;
            }
        }
        conversation.Bind(new CallContext
        {
            CallId = call.Id.ToString(),
            Provider = EnumNames.Of(provider),
            Direction = EnumNames.Of(call.Direction),
            From = call.FromNumber ?? stream.From,
            To = call.ToNumber ?? stream.To,
            Parameters = parameters,
        });
        if (agent.FlowError is { } problem)
        {
            logger.LogError("Call {CallId}: agent {Agent} has an unreadable flow: {Problem}", call.Id, agent.Definition.Name, problem);
        }
        return null;
    }
}
