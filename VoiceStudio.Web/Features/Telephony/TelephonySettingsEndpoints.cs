using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PhoneNumbers;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Data.Telephony;
using VoiceStudio.Media.Flows;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Auth;
using VoiceStudio.Web.Infrastructure;
using PhoneNumber = VoiceStudio.Data.Telephony.PhoneNumber;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>
/// <c>GET/PUT /api/settings/telephony</c> (admins): the public base URL, the default provider, and each provider's
/// account and concurrency limit. Secrets are encrypted at rest (Data Protection) and masked on read; a PUT changes
/// only the fields it names (a secret set to null or "" is cleared). <c>/api/phone-numbers</c>: numbers with their
/// inbound and outbound agents and the webhook URL to paste into the provider's console.
/// </summary>
public static class TelephonySettingsEndpoints
{
    private static readonly TelephonyProvider[] Providers = [TelephonyProvider.Twilio, TelephonyProvider.Exotel, TelephonyProvider.Vobiz];
    private static readonly HashSet<string> ProviderFields = ["enabled", "account_id", "api_key", "auth_token", "webhook_secret", "phone_number", "api_base_url", "max_concurrent", "app_id"];

    public static IEndpointRouteBuilder MapTelephonySettingsEndpoints(this IEndpointRouteBuilder app)
    {
        var settings = app.MapGroup("/api/settings").RequireAuthorization(AuthSetup.Admins).WithTags("settings");
        settings.MapGet("/telephony", async (IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, ConcurrencySlots slots,
                IOptions<VoiceStudioSettings> options, CancellationToken cancellationToken) =>
            Results.Json(await ReadAsync(dbFactory, accounts, slots, options.Value, cancellationToken)))
            .WithSummary("Telephony settings, secrets masked");

        settings.MapPut("/telephony", async (HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts,
                ConcurrencySlots slots, IOptions<VoiceStudioSettings> options, TimeProvider clock, ILoggerFactory logs, CancellationToken cancellationToken) =>
            {
                var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
                if (body is null)
                {
                    return Api.BadRequest(error!);
                }
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                var problems = await ApplyAsync(db, accounts, body, clock.GetUtcNow(), cancellationToken);
                if (problems.Count > 0)
                {
                    return Api.Invalid(problems);
                }
                await db.SaveChangesAsync(cancellationToken);
                logs.CreateLogger(typeof(TelephonySettingsEndpoints)).LogInformation("Telephony settings changed: {Fields}", string.Join(", ", Names(body)));
                return Results.Json(await ReadAsync(dbFactory, accounts, slots, options.Value, cancellationToken));
            })
            .WithSummary("Change telephony settings (only the fields given)");

        var numbers = app.MapGroup("/api/phone-numbers").RequireAuthorization(AuthSetup.Admins).WithTags("settings");
        numbers.MapGet("/", async (IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, HttpRequest request, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var baseUrl = await accounts.PublicBaseUrlAsync(request, cancellationToken);
            var rows = await db.PhoneNumbers.AsNoTracking().Include(n => n.InboundAgent).Include(n => n.OutboundAgent).OrderBy(n => n.Number).ToListAsync(cancellationToken);
            return Results.Json(rows.Select(n => NumberJson(n, baseUrl)));
        }).WithSummary("Phone numbers with their agents and webhook URLs");
        numbers.MapGet("/{id:guid}", async (Guid id, IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, HttpRequest request, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var row = await db.PhoneNumbers.AsNoTracking().Include(n => n.InboundAgent).Include(n => n.OutboundAgent).FirstOrDefaultAsync(n => n.Id == id, cancellationToken);
            return row is null ? Api.NotFound($"phone number {id} does not exist") : Results.Json(NumberJson(row, await accounts.PublicBaseUrlAsync(request, cancellationToken)));
        }).WithSummary("One phone number");
        numbers.MapPost("/", (HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, TimeProvider clock, CancellationToken cancellationToken) =>
            SaveNumberAsync(null, request, dbFactory, accounts, clock, cancellationToken)).WithSummary("Add a phone number");
        numbers.MapPatch("/{id:guid}", (Guid id, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, TimeProvider clock, CancellationToken cancellationToken) =>
            SaveNumberAsync(id, request, dbFactory, accounts, clock, cancellationToken)).WithSummary("Change a phone number (only the fields given)");
        numbers.MapDelete("/{id:guid}", async (Guid id, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            return await db.PhoneNumbers.Where(n => n.Id == id).ExecuteDeleteAsync(cancellationToken) == 0
                ? Api.NotFound($"phone number {id} does not exist")
                : Results.NoContent();
        }).WithSummary("Remove a phone number");
        return app;
    }

    private static IEnumerable<string> Names(JsonObject body) =>
        body.SelectMany(p => p.Value is JsonObject providers && p.Key == "providers"
            ? providers.SelectMany(q => q.Value is JsonObject fields ? fields.Select(f => $"{q.Key}.{f.Key}") : [q.Key])
            : [p.Key]);

    private static async Task<object> ReadAsync(IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts, ConcurrencySlots slots,
        VoiceStudioSettings options, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var shared = await db.TelephonySettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        var rows = await db.TelephonyProviders.AsNoTracking().ToDictionaryAsync(p => p.Provider, cancellationToken);
        var providers = new Dictionary<string, object>();
        foreach (var provider in Providers)
        {
            var row = rows.GetValueOrDefault(provider);
            var effective = accounts.Merge(provider, row);
            int? active;
            try
            {
                active = await slots.CountAsync(provider);
            }
            catch (StackExchange.Redis.RedisException)
            {
                active = null;
            }
            providers[EnumNames.Of(provider)] = new
            {
                enabled = row?.Enabled ?? false,
                account_id = effective.AccountId,
                api_key = effective.ApiKey,
                auth_token = Secrets.Mask(effective.AuthToken),
                auth_token_set = effective.AuthToken is not null,
                webhook_secret = Secrets.Mask(effective.WebhookSecret),
                webhook_secret_set = effective.WebhookSecret is not null,
                phone_number = effective.PhoneNumber,
                api_base_url = effective.ApiBaseUrl,
                app_id = effective.AppId,
                max_concurrent = effective.MaxConcurrent,
                active_calls = active,
                updated_at = row?.UpdatedAt,
            };
        }
        return new
        {
            public_base_url = shared?.PublicBaseUrl ?? options.PublicBaseUrl,
            default_provider = shared is null ? options.TelephonyProvider : EnumNames.Of(shared.DefaultProvider),
            verify_requests = options.TelephonyVerifyRequests,
            providers,
        };
    }

    /// <summary>The last four characters only, so an admin can tell which secret is set.</summary>

    private static async Task<List<FlowProblem>> ApplyAsync(VoiceStudioDbContext db, TelephonyAccounts accounts, JsonObject body, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        var shared = await db.TelephonySettings.FirstOrDefaultAsync(cancellationToken);
        if (shared is null)
        {
            shared = new TelephonySettings { UpdatedAt = now };
            db.TelephonySettings.Add(shared);
        }
        foreach (var (name, value) in body)
        {
            switch (name)
            {
                case "public_base_url":
                    var url = Text(value);
                    if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
                    {
                        Problem(name, $"'{url}' is not an http or https URL");
                    }
                    shared.PublicBaseUrl = url?.TrimEnd('/');
                    shared.UpdatedAt = now;
                    break;
                case "default_provider":
                    if (Text(value) is { } text && MediaProvider(text, out var chosen))
                    {
                        shared.DefaultProvider = chosen;
                        shared.UpdatedAt = now;
                    }
                    else
                    {
                        Problem(name, "must be twilio, exotel or vobiz");
                    }
                    break;
                case "providers" when value is JsonObject providers:
                    foreach (var (providerName, fields) in providers)
                    {
                        if (!MediaProvider(providerName, out var provider))
                        {
                            Problem($"providers.{providerName}", "is not twilio, exotel or vobiz");
                            continue;
                        }
                        if (fields is not JsonObject changes)
                        {
                            Problem($"providers.{providerName}", "must be an object of the fields to change");
                            continue;
                        }
                        var row = await db.TelephonyProviders.FirstOrDefaultAsync(p => p.Provider == provider, cancellationToken);
                        if (row is null)
                        {
                            row = new TelephonyProviderSettings { Provider = provider };
                            db.TelephonyProviders.Add(row);
                        }
                        ApplyProvider(row, changes, $"providers.{providerName}", accounts, Problem);
                        row.UpdatedAt = now;
                    }
                    break;
                case "providers":
                    Problem(name, "must be an object: provider name → fields to change");
                    break;
                case "verify_requests":
                    Problem(name, "is set by TELEPHONY_VERIFY_REQUESTS in the environment, not through the API");
                    break;
                default:
                    Problem(name, "is not a telephony setting (public_base_url, default_provider, providers)");
                    break;
            }
        }
        return problems;
    }

    private static void ApplyProvider(TelephonyProviderSettings row, JsonObject changes, string path, TelephonyAccounts accounts, Action<string, string> problem)
    {
        foreach (var (field, value) in changes)
        {
            var where = $"{path}.{field}";
            if (!ProviderFields.Contains(field))
            {
                problem(where, $"is not a provider field ({string.Join(", ", ProviderFields)})");
                continue;
            }
            if (value is not null and not JsonValue)
            {
                problem(where, "must be a single value");
                continue;
            }
            var text = Text(value);
            switch (field)
            {
                case "enabled":
                    if (value is JsonValue b && b.TryGetValue<bool>(out var on))
                    {
                        row.Enabled = on;
                    }
                    else
                    {
                        problem(where, "must be true or false");
                    }
                    break;
                case "max_concurrent":
                    if (value is JsonValue n && n.TryGetValue<int>(out var limit) && limit is >= 0 and <= 10_000)
                    {
                        row.MaxConcurrent = limit;
                    }
                    else
                    {
                        problem(where, "must be a whole number from 0 (no calls) to 10000");
                    }
                    break;
                case "auth_token":
                    row.AuthTokenProtected = text is null ? null : accounts.Protect(text);
                    break;
                case "webhook_secret":
                    row.WebhookSecretProtected = text is null ? null : accounts.Protect(text);
                    break;
                case "phone_number":
                    if (text is not null && E164(text) is not { } e164)
                    {
                        problem(where, $"'{text}' is not a phone number in international form (E.164, like +14155550123)");
                    }
                    else
                    {
                        row.PhoneNumber = text is null ? null : E164(text);
                    }
                    break;
                case "api_base_url":
                    if (text is not null && (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
                    {
                        problem(where, $"'{text}' is not an http or https URL");
                    }
                    row.ApiBaseUrl = text?.TrimEnd('/');
                    break;
                case "account_id":
                    row.AccountId = text;
                    break;
                case "api_key":
                    row.ApiKey = text;
                    break;
                case "app_id":
                    row.AppId = text;
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>The number in E.164 form when libphonenumber finds it a possible number, else null.</summary>
    public static string? E164(string text)
    {
        try
        {
            var number = PhoneNumberUtil.GetInstance().Parse(text, null);
            return PhoneNumberUtil.GetInstance().IsPossibleNumber(number) ? PhoneNumberUtil.GetInstance().Format(number, PhoneNumberFormat.E164) : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    private static string? Text(JsonNode? value) => value is JsonValue v && v.TryGetValue<string>(out var s) && s.Trim().Length > 0 ? s.Trim() : null;

    private static bool MediaProvider(string name, out TelephonyProvider provider) => Calls.MediaEndpoints.TryProvider(name, out provider);

    private static object NumberJson(PhoneNumber n, string baseUrl) => new
    {
        id = n.Id,
        number = n.Number,
        provider = EnumNames.Of(n.Provider),
        label = n.Label,
        inbound_agent = n.InboundAgent?.Name,
        outbound_agent = n.OutboundAgent?.Name,
        webhook_url = $"{baseUrl}/telephony/{EnumNames.Of(n.Provider)}/number/{n.Id}",
        created_at = n.CreatedAt,
        updated_at = n.UpdatedAt,
    };

    private static async Task<IResult> SaveNumberAsync(Guid? id, HttpRequest request, IDbContextFactory<VoiceStudioDbContext> dbFactory, TelephonyAccounts accounts,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
        if (body is null)
        {
            return Api.BadRequest(error!);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        PhoneNumber? row = null;
        if (id is { } existing && (row = await db.PhoneNumbers.FirstOrDefaultAsync(n => n.Id == existing, cancellationToken)) is null)
        {
            return Api.NotFound($"phone number {existing} does not exist");
        }
        var problems = new List<FlowProblem>();
        void Problem(string field, string message) => problems.Add(new FlowProblem(null, field, message));
        row ??= new PhoneNumber { Id = Guid.CreateVersion7(), Number = "", CreatedAt = now };
        if (id is null && (body["number"] is null || body["provider"] is null))
        {
            Problem(body["number"] is null ? "number" : "provider", "is required");
        }
        foreach (var (field, value) in body)
        {
            var text = Text(value);
            switch (field)
            {
                case "number":
                    if (text is null || E164(text) is not { } e164)
                    {
                        Problem(field, $"'{text}' is not a phone number in international form (E.164, like +14155550123)");
                    }
                    else if (await db.PhoneNumbers.AnyAsync(n => n.Number == e164 && n.Id != row.Id, cancellationToken))
                    {
                        Problem(field, $"{e164} is already listed");
                    }
                    else
                    {
                        row.Number = e164;
                    }
                    break;
                case "provider":
                    if (text is null || !MediaProvider(text, out var provider))
                    {
                        Problem(field, "must be twilio, exotel or vobiz");
                    }
                    else
                    {
                        row.Provider = provider;
                    }
                    break;
                case "label":
                    row.Label = text;
                    break;
                case "inbound_agent" or "outbound_agent":
                    Guid? agentId = null;
                    if (text is not null)
                    {
                        agentId = await db.Agents.Where(a => a.Name == text || a.Id.ToString() == text).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken);
                        if (agentId is null)
                        {
                            Problem(field, $"agent '{text}' does not exist");
                        }
                    }
                    if (field == "inbound_agent")
                    {
                        row.InboundAgentId = agentId;
                    }
                    else
                    {
                        row.OutboundAgentId = agentId;
                    }
                    break;
                default:
                    Problem(field, "is not a phone number field (number, provider, label, inbound_agent, outbound_agent)");
                    break;
            }
        }
        if (problems.Count > 0)
        {
            return Api.Invalid(problems);
        }
        row.UpdatedAt = now;
        if (id is null)
        {
            db.PhoneNumbers.Add(row);
        }
        await db.SaveChangesAsync(cancellationToken);
        var saved = await db.PhoneNumbers.AsNoTracking().Include(n => n.InboundAgent).Include(n => n.OutboundAgent).FirstAsync(n => n.Id == row.Id, cancellationToken);
        var json = NumberJson(saved, await accounts.PublicBaseUrlAsync(request, cancellationToken));
        return id is null ? Results.Json(json, statusCode: StatusCodes.Status201Created) : Results.Json(json);
    }
}
