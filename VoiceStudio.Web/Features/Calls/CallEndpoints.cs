using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Media.Flows;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>
/// The calls API (SPEC §8), for any signed-in user: <c>GET /api/calls</c> paged (page, page_size ≤ 100, total) and
/// filtered (status, agent, direction, provider, from/to dates, is_test), <c>GET /api/calls/{id}</c> with the
/// transcript, variables and usage, and <c>GET /api/calls/{id}/events</c> in order.
/// </summary>
public static class CallEndpoints
{
    public static IEndpointRouteBuilder MapCallEndpoints(this IEndpointRouteBuilder app)
    {
        var calls = app.MapGroup("/api/calls").RequireAuthorization().WithTags("calls");
        calls.MapGet("/", ListAsync).WithSummary("Calls, newest first, paged and filtered");
        calls.MapGet("/{id:guid}", async (Guid id, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var call = await db.Calls.AsNoTracking().Include(c => c.FlowVersion).FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
            if (call is null)
            {
                return Api.NotFound($"call {id} does not exist");
            }
            return Results.Json(new Dictionary<string, object?>(Summary(call))
            {
                ["transcript"] = JsonDocument.Parse(call.Transcript).RootElement,
                ["context_variables"] = JsonDocument.Parse(call.ContextVariables).RootElement,
                ["usage"] = JsonDocument.Parse(call.Usage).RootElement,
                ["recording_path"] = call.RecordingPath,
                ["owner_instance"] = call.OwnerInstance,
            });
        }).WithSummary("One call with its transcript, variables and usage");
        calls.MapGet("/{id:guid}/events", async (Guid id, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            if (!await db.Calls.AnyAsync(c => c.Id == id, cancellationToken))
            {
                return Api.NotFound($"call {id} does not exist");
            }
            var events = await db.CallEvents.AsNoTracking().Where(e => e.CallId == id).OrderBy(e => e.Id).ToListAsync(cancellationToken);
            return Results.Json(events.Select(e => new { id = e.Id, type = e.Type, at = e.OccurredAt, data = JsonDocument.Parse(e.Data).RootElement }));
        }).WithSummary("A call's events, in order");
        calls.MapGet("/{id:guid}/recording", async (Guid id, string? format, IDbContextFactory<VoiceStudioDbContext> dbFactory,
            Microsoft.Extensions.Options.IOptions<Configuration.VoiceStudioSettings> settings, CancellationToken cancellationToken) =>
        {
            if (format is not (null or "wav" or "mp3"))
            {
                return Api.BadRequest("format must be wav or mp3");
            }
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
            if (call is null)
            {
                return Api.NotFound($"call {id} does not exist");
            }
            if (RecordingFile(settings.Value.RecordingsDir, call.RecordingPath) is not { } wav)
            {
                return Api.NotFound(call.RecordingPath is null ? $"call {id} has no recording" : $"the recording of call {id} is gone (deleted by retention?)");
            }
            if (format == "mp3")
            {
                // Transcoded once, next to the WAV; the cleanup job removes both.
                var mp3 = Path.ChangeExtension(wav, ".mp3");
                if (!File.Exists(mp3) || File.GetLastWriteTimeUtc(mp3) < File.GetLastWriteTimeUtc(wav))
                {
                    await Recordings.RecordingTranscoder.ToMp3Async(wav, mp3, cancellationToken);
                }
                return Results.File(mp3, "audio/mpeg", $"call-{id}.mp3", enableRangeProcessing: true);
            }
            return Results.File(wav, "audio/wav", $"call-{id}.wav", enableRangeProcessing: true);
        }).WithSummary("The call's stereo recording (caller left, agent right) as WAV or ?format=mp3; range requests work");
        return app;
    }

    private static async Task<IResult> ListAsync(HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        int Number(string name, int fallback, int min, int max)
        {
            var text = query[name].ToString();
            if (text.Length == 0)
            {
                return fallback;
            }
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            Problem(name, $"must be a whole number from {min} to {max}");
            return fallback;
        }
        DateTimeOffset? Date(string name)
        {
            var text = query[name].ToString();
            if (text.Length == 0)
            {
                return null;
            }
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            {
                return value;
            }
            Problem(name, "must be a date or time (ISO 8601, like 2026-11-24 or 2026-11-24T09:00:00Z)");
            return null;
        }
        TEnum? Enum<TEnum>(string name) where TEnum : struct, System.Enum
        {
            var text = query[name].ToString();
            if (text.Length == 0)
            {
                return null;
            }
            try
            {
                return EnumNames.Parse<TEnum>(text);
            }
            catch (FormatException e)
            {
                Problem(name, e.Message);
                return null;
            }
        }
        var page = Number("page", 1, 1, 1_000_000);
        var pageSize = Number("page_size", 20, 1, 100);
        var status = Enum<CallStatus>("status");
        var direction = Enum<CallDirection>("direction");
        var provider = Enum<TelephonyProvider>("provider");
        var from = Date("from");
        var to = Date("to");
        bool? isTest = null;
        if (query["is_test"].ToString() is { Length: > 0 } test)
        {
            if (bool.TryParse(test, out var parsed))
            {
                isTest = parsed;
            }
            else
            {
                Problem("is_test", "must be true or false");
            }
        }
        if (problems.Count > 0)
        {
            return Api.Invalid(problems);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var calls = db.Calls.AsNoTracking();
        if (status is { } s)
        {
            calls = calls.Where(c => c.Status == s);
        }
        if (direction is { } d)
        {
            calls = calls.Where(c => c.Direction == d);
        }
        if (provider is { } p)
        {
            calls = calls.Where(c => c.Provider == p);
        }
        if (query["agent"].ToString() is { Length: > 0 } agent)
        {
            calls = calls.Where(c => c.AgentName == agent);
        }
        if (from is { } start)
        {
            calls = calls.Where(c => c.CreatedAt >= start);
        }
        if (to is { } end)
        {
            calls = calls.Where(c => c.CreatedAt <= end);
        }
        if (isTest is { } t)
        {
            calls = calls.Where(c => c.IsTest == t);
        }
        var total = await calls.CountAsync(cancellationToken);
        var rows = await calls.Include(c => c.FlowVersion).OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return Results.Json(new { items = rows.Select(Summary), page, page_size = pageSize, total });
    }

    private static Dictionary<string, object?> Summary(Call c) => new()
    {
        ["id"] = c.Id,
        ["agent"] = c.AgentName,
        ["provider"] = EnumNames.Of(c.Provider),
        ["provider_call_id"] = c.ProviderCallId,
        ["direction"] = EnumNames.Of(c.Direction),
        ["from"] = c.FromNumber,
        ["to"] = c.ToNumber,
        ["status"] = EnumNames.Of(c.Status),
        ["started_at"] = c.StartedAt,
        ["ended_at"] = c.EndedAt,
        ["duration_s"] = c.DurationSeconds is { } seconds ? Math.Round(seconds, 1) : null,
        ["end_reason"] = c.EndReason,
        ["is_test"] = c.IsTest,
        ["flow_version"] = c.FlowVersion?.Version,
        ["created_at"] = c.CreatedAt,
    };

    /// <summary>The recording's full path when it exists inside the recordings folder; null otherwise (none, deleted, or a path that leaves the folder).</summary>
    public static string? RecordingFile(string recordingsDir, string? relative)
    {
        if (relative is null)
        {
            return null;
        }
        var root = Path.GetFullPath(recordingsDir);
        var wav = Path.GetFullPath(Path.Combine(root, relative));
        return wav.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(wav) ? wav : null;
    }
}
