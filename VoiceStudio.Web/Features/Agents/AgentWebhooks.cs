using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;

namespace VoiceStudio.Web.Features.Agents;

/// <summary>
/// An agent's webhook (SPEC §3): <c>call_started</c> when a call's stream begins and <c>call_ended</c> when its record
/// is final, POSTed as JSON to the agent's webhook URL if it asked for that event. Fire and forget with a 10 s
/// timeout: a slow or failing receiver never holds a call up; failures are logged.
/// </summary>
public sealed class AgentWebhooks(IHttpClientFactory clients, IDbContextFactory<VoiceStudioDbContext> dbFactory, ILogger<AgentWebhooks> logger)
{
    public const string ClientName = "agent-webhooks";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Sends <paramref name="eventName"/> for the call in the background, if its agent wants it.</summary>
    public void Fire(Guid callId, string eventName) => _ = Task.Run(() => SendAsync(callId, eventName));

    private async Task SendAsync(Guid callId, string eventName)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var call = await db.Calls.AsNoTracking().Include(c => c.Agent).FirstOrDefaultAsync(c => c.Id == callId);
            if (call?.Agent is not { WebhookUrl: { Length: > 0 } url } agent || !agent.WebhookEvents.Contains(eventName))
            {
                return;
            }
            var payload = new JsonObject
            {
                ["event"] = eventName,
                ["call_id"] = call.Id,
                ["phone_number"] = call.Direction == CallDirection.Outbound ? call.ToNumber : call.FromNumber,
                ["from"] = call.FromNumber,
                ["to"] = call.ToNumber,
                ["agent"] = agent.Name,
                ["provider"] = EnumNames.Of(call.Provider),
                ["direction"] = EnumNames.Of(call.Direction),
                ["status"] = EnumNames.Of(call.Status),
                ["duration_seconds"] = call.DurationSeconds is { } seconds ? Math.Round(seconds, 1) : null,
                ["started_at"] = call.StartedAt,
                ["ended_at"] = call.EndedAt,
                ["end_reason"] = call.EndReason,
                ["is_test"] = call.IsTest,
            };
            if (eventName == "call_ended")
            {
                payload["transcript"] = JsonNode.Parse(call.Transcript);
                payload["variables"] = JsonNode.Parse(call.ContextVariables);
            }
            using var timeout = new CancellationTokenSource(Timeout);
            using var response = await clients.CreateClient(ClientName).PostAsJsonAsync(url, payload, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Webhook {Event} of call {CallId} to {Url} answered {Status}", eventName, callId, url, (int)response.StatusCode);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or InvalidOperationException)
        {
            logger.LogWarning("Webhook {Event} of call {CallId} failed: {Reason}", eventName, callId, e is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : e.Message);
        }
    }
}
