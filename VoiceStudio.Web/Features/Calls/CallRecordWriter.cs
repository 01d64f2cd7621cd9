using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Diagnostics;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Instances;
using VoiceStudio.Web.Infrastructure;
using StreamInfo = VoiceStudio.Media.Calls.StreamInfo;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>
/// A call's reports (<see cref="ICallObserver"/>) made durable and live: the call row (status, owner, times, end,
/// transcript, recording), one call event per report, one Redis message per event on the call's channel and the
/// all-calls channel, the instance's set of running calls, and the named log events. The session calls it from its
/// audio threads, so every method only enqueues; one background writer per call applies the updates in order.
/// A failed write is logged and never reaches the call. Messages are published in order; a reader that needs the
/// order (the live monitor) subscribes through a <c>ChannelMessageQueue</c>, as plain handlers may run concurrently.
/// </summary>
public sealed class CallRecordWriter : ICallObserver
{
    private Guid _callId;
    private readonly string _agent;
    private readonly IDbContextFactory<VoiceStudioDbContext> _db;
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly ActiveCalls _activeCalls;
    private readonly InstanceIdentity _instance;
    private readonly string _recordingsDir;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Channel<Func<Task>> _updates = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private string _provider = "";

    public CallRecordWriter(Guid callId, string agent, IServiceProvider services)
    {
        _callId = callId;
        _agent = agent;
        _db = services.GetRequiredService<IDbContextFactory<VoiceStudioDbContext>>();
        _redis = services.GetRequiredService<IConnectionMultiplexer>();
        _keys = services.GetRequiredService<RedisKeys>();
        _activeCalls = services.GetRequiredService<ActiveCalls>();
        _instance = services.GetRequiredService<InstanceIdentity>();
        _recordingsDir = Path.GetFullPath(services.GetRequiredService<IOptions<VoiceStudioSettings>>().Value.RecordingsDir);
        _clock = services.GetRequiredService<TimeProvider>();
        _logger = services.GetRequiredService<ILogger<CallRecordWriter>>();
        Completion = Task.Run(WriteAsync);
    }

    /// <summary>Finishes once the call has ended and everything is written.</summary>
    public Task Completion { get; }

    public Guid CallId => _callId;

    /// <summary>Points the writer at the call row the stream turned out to belong to (before <see cref="Started"/>).</summary>
    public void Bind(Guid callId) => _callId = callId;

    /// <summary>The stream never started (refused, or closed first): nothing more will come.</summary>
    public void Abandon() => _updates.Writer.TryComplete();

    public void Started(StreamInfo stream)
    {
        var now = _clock.GetUtcNow();
        _provider = stream.Provider;
        Enqueue(async () =>
        {
            await using var db = await _db.CreateDbContextAsync();
            var call = await db.Calls.FindAsync(_callId) ?? throw new InvalidOperationException($"call {_callId} has no row");
            call.Status = CallStatus.InProgress;
            call.StartedAt = now;
            call.OwnerInstance = _instance.Id;
            call.ProviderCallId = stream.ProviderCallId;
            call.FromNumber ??= stream.From;
            call.ToNumber ??= stream.To;
            call.UpdatedAt = now;
            await db.SaveChangesAsync();
            await _activeCalls.AddAsync(_callId);
            _logger.LogCallConnected(_callId, _agent, stream.Provider);
            _logger.LogCallStarted(_callId, _agent, stream.Provider);
        });
        Event(CallEventTypes.CallConnected, new { provider = stream.Provider, stream_id = stream.StreamId, provider_call_id = stream.ProviderCallId, sample_rate = stream.SampleRate });
        Event(CallEventTypes.CallStarted, new { stream.From, stream.To, parameters = stream.Parameters.Where(p => p.Key != "token").ToDictionary() }); // the stream token is a credential: never stored or published
    }

    public void UserSpoke(string text, TimeSpan at)
    {
        Transcript("user", text, at);
        Event(CallEventTypes.UserSpoke, new { text, at_ms = Ms(at) });
        Enqueue(() => { _logger.LogUserSpoke(_callId, _agent, null, text); return Task.CompletedTask; });
    }

    public void AgentSpoke(string text, TimeSpan at)
    {
        Transcript("agent", text, at);
        Event(CallEventTypes.AgentSpoke, new { text, at_ms = Ms(at) });
        Enqueue(() => { _logger.LogAgentSpoke(_callId, _agent, null, text); return Task.CompletedTask; });
    }

    public void Interrupted(string spoken, TimeSpan at) => Event(CallEventTypes.Interruption, new { spoken, at_ms = Ms(at) });

    public void Dtmf(char digit, TimeSpan at) => Event(CallEventTypes.Dtmf, new { digit = digit.ToString(), at_ms = Ms(at) });

    public void UserIdle(int times, TimeSpan at) => Event(CallEventTypes.UserIdle, new { times, at_ms = Ms(at) });

    public void TurnMeasured(TurnLatency latency) => Event(CallEventTypes.TurnLatency, new
    {
        turn = latency.Turn,
        vad_stop_s = latency.VadStopSeconds,
        stt_final_ms = Math.Round(latency.SttFinalMs, 1),
        first_reply_text_ms = Math.Round(latency.FirstReplyTextMs, 1),
        first_tts_audio_ms = Math.Round(latency.FirstTtsAudioMs, 1),
        first_audio_sent_ms = Math.Round(latency.FirstAudioSentMs, 1),
        stt_first_interim_ms = latency.SttFirstInterimMs is { } interim ? Math.Round(interim, 1) : (double?)null, // from the start of the caller's speech
    });

    public void GreetingMeasured(double firstAudioMs) => Event(CallEventTypes.GreetingLatency, new { first_audio_ms = Math.Round(firstAudioMs, 1) });

    public void Traced(Trace trace)
    {
        if (trace.Type == CallEventTypes.LlmResponse)
        {
            _llmRequests++;
            _llmInputTokens += trace.Data.GetValueOrDefault("input_tokens") is long input ? input : 0;
            _llmOutputTokens += trace.Data.GetValueOrDefault("output_tokens") is long output ? output : 0;
        }
        Event(CallEventTypes.All.Contains(trace.Type) ? trace.Type : CallEventTypes.Warning,
            CallEventTypes.All.Contains(trace.Type) ? trace.Data : new Dictionary<string, object?> { ["unknown_trace"] = trace.Type, ["data"] = trace.Data });
    }

    /// <summary>What the call's cloud speech used, read when the call ends.</summary>
    public Func<Media.Speech.Cloud.SpeechUsage>? UsageSource { get; set; }

    private int _llmRequests;
    private long _llmInputTokens;
    private long _llmOutputTokens;

    public void Ended(CallEnd end)
    {
        var now = _clock.GetUtcNow();
        if (end.Recording is { } recording)
        {
            Event(CallEventTypes.RecordingSaved, new { path = Relative(recording.Path), duration_s = Math.Round(recording.DurationSeconds, 2), bytes = recording.Bytes });
        }
        var failed = end.Reason.StartsWith("protocol error", StringComparison.Ordinal) || end.Reason.StartsWith("the stream closed", StringComparison.Ordinal);
        var status = failed ? CallStatus.Failed : CallStatus.Completed;
        Event(failed ? CallEventTypes.CallFailed : CallEventTypes.CallCompleted, new { reason = end.Reason, by_agent = end.ByAgent, transfer_to = end.TransferTo });
        Enqueue(async () =>
        {
            await using var db = await _db.CreateDbContextAsync();
            var call = await db.Calls.FindAsync(_callId) ?? throw new InvalidOperationException($"call {_callId} has no row");
            call.Status = status;
            call.EndedAt = now;
            call.DurationSeconds = call.StartedAt is { } started ? Math.Max(0, (now - started).TotalSeconds) : 0;
            call.EndReason = end.Reason;
            call.RecordingPath = end.Recording is { } r ? Relative(r.Path) : call.RecordingPath;
            call.UpdatedAt = now;
            var speech = UsageSource?.Invoke();
            if (_llmRequests > 0 || speech is { SttSeconds: > 0 } or { TtsCharacters: > 0 })
            {
                var usage = System.Text.Json.Nodes.JsonNode.Parse(call.Usage) as System.Text.Json.Nodes.JsonObject ?? [];
                if (_llmRequests > 0)
                {
                    usage["llm_requests"] = _llmRequests;
                    usage["llm_input_tokens"] = _llmInputTokens;
                    usage["llm_output_tokens"] = _llmOutputTokens;
                }
                if (speech is not null)
                {
                    usage["stt_seconds"] = Math.Round(speech.SttSeconds, 2);
                    usage["tts_characters"] = speech.TtsCharacters;
                }
                call.Usage = usage.ToJsonString();
            }
            await db.SaveChangesAsync();
            await _activeCalls.RemoveAsync(_callId);
            if (end.Recording is { } saved)
            {
                _logger.LogRecordingSaved(_callId, _agent, saved.Path, saved.DurationSeconds, saved.Bytes);
            }
            _logger.LogCallDisconnected(_callId, _agent, _provider, end.Reason);
            _logger.LogCallCompleted(_callId, _agent, EnumNames.Of(status), call.DurationSeconds ?? 0, end.Reason);
        });
        _updates.Writer.TryComplete();
    }

    private void Transcript(string speaker, string text, TimeSpan at)
    {
        var entry = JsonSerializer.Serialize(new[] { new { speaker, text, at_ms = Ms(at) } });
        Enqueue(async () =>
        {
            await using var db = await _db.CreateDbContextAsync();
            await db.Database.ExecuteSqlInterpolatedAsync($"UPDATE calls SET transcript = transcript || {entry}::jsonb WHERE id = {_callId}");
        });
    }

    private void Event(string type, object data)
    {
        var at = _clock.GetUtcNow();
        var json = JsonSerializer.Serialize(data, JsonOptions);
        Enqueue(async () =>
        {
            await using var db = await _db.CreateDbContextAsync();
            db.CallEvents.Add(new CallEvent { CallId = _callId, Type = type, OccurredAt = at, Data = json });
            await db.SaveChangesAsync();
            var message = $$"""{"call_id":"{{_callId}}","agent":{{JsonSerializer.Serialize(_agent)}},"type":"{{type}}","at":"{{at.ToString("O", CultureInfo.InvariantCulture)}}","data":{{json}}}""";
            var redis = _redis.GetDatabase();
            await redis.PublishAsync(_keys.CallChannel(_callId), message);
            await redis.PublishAsync(_keys.AllCallsChannel, message);
        });
    }

    private void Enqueue(Func<Task> update) => _updates.Writer.TryWrite(update);

    private async Task WriteAsync()
    {
        await foreach (var update in _updates.Reader.ReadAllAsync())
        {
            try
            {
                await update();
            }
            catch (Exception e) when (e is DbUpdateException or Npgsql.NpgsqlException or RedisException or InvalidOperationException)
            {
                _logger.LogError(e, "Could not record an update of call {CallId}", _callId);
            }
        }
    }

    private string Relative(string path)
    {
        var full = Path.GetFullPath(path);
        return full.StartsWith(_recordingsDir + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? Path.GetRelativePath(_recordingsDir, full) : full;
    }

    private static long Ms(TimeSpan at) => (long)at.TotalMilliseconds;

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
