using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data;
using VoiceStudio.Data.Telephony;
using VoiceStudio.Web.Features.Auth;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>A cloud speech provider's installation-wide account, decrypted.</summary>
public sealed record SpeechAccount(string Provider, string? BaseUrl, string? ApiKey);

/// <summary>
/// The installation's cloud speech accounts (<c>speech_providers</c>): keys encrypted with ASP.NET Data Protection
/// (the same key ring as the telephony tokens), shown masked, changed by admins through
/// <c>GET/PUT /api/settings/speech</c> and the settings page.
/// </summary>
public sealed class SpeechAccounts(IDbContextFactory<VoiceStudioDbContext> dbFactory, IDataProtectionProvider protection, IConfiguration configuration, TimeProvider clock)
{
    public static readonly IReadOnlyList<string> Providers = ["deepgram", "openai", "elevenlabs", "cartesia"];

    private readonly IDataProtector _secrets = protection.CreateProtector("VoiceStudio.Speech.Secrets.v1");

    public async Task<IReadOnlyDictionary<string, SpeechAccount>> GetAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.SpeechProviders.AsNoTracking().ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.Provider, r => new SpeechAccount(r.Provider, r.BaseUrl, Unprotect(r.ApiKeyProtected)), StringComparer.Ordinal);
    }

    private string? Unprotect(string? stored)
    {
        if (stored is null)
        {
            return null;
        }
        try
        {
            return _secrets.Unprotect(stored);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null; // the key ring changed: the key must be entered again
        }
    }

    /// <summary>What the settings page and the API show: masked keys and where each comes from.</summary>
    public async Task<JsonArray> ShowAsync(CancellationToken cancellationToken)
    {
        var accounts = await GetAsync(cancellationToken);
        var list = new JsonArray();
        foreach (var provider in Providers)
        {
            var account = accounts.GetValueOrDefault(provider);
            var environment = configuration[$"{provider.ToUpperInvariant()}_API_KEY"];
            var key = account?.ApiKey ?? environment;
            list.Add(new JsonObject
            {
                ["provider"] = provider,
                ["base_url"] = account?.BaseUrl ?? configuration[$"{provider.ToUpperInvariant()}_BASE_URL"] ?? SpeechProviders.DefaultBaseUrls[provider].ToString(),
                ["api_key"] = Secrets.Mask(key),
                ["key_source"] = account?.ApiKey is not null ? "settings" : environment is not null ? "environment" : null,
            });
        }
        return list;
    }

    /// <summary>Changes the accounts given in <paramref name="body"/> (<c>{"deepgram": {"api_key", "base_url"}, …}</c>); problems name the field.</summary>
    public async Task<List<Media.Flows.FlowProblem>> SaveAsync(JsonObject body, CancellationToken cancellationToken)
    {
        var problems = new List<Media.Flows.FlowProblem>();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var (provider, value) in body)
        {
            if (!Providers.Contains(provider))
            {
                problems.Add(new(null, provider, $"is not a speech provider ({string.Join(", ", Providers)})"));
                continue;
            }
            if (value is not JsonObject fields)
            {
                problems.Add(new(null, provider, "must be an object with api_key and/or base_url"));
                continue;
            }
            var row = await db.SpeechProviders.FirstOrDefaultAsync(p => p.Provider == provider, cancellationToken);
            if (row is null)
            {
                row = new SpeechProviderSettings { Provider = provider };
                db.SpeechProviders.Add(row);
            }
            foreach (var (field, v) in fields)
            {
                var text = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s.Trim() : null;
                switch (field)
                {
                    case "api_key" when v is null || text is "":
                        row.ApiKeyProtected = null;
                        break;
                    case "api_key" when Secrets.IsMasked(text):
                        break; // sent back as read: keep it
                    case "api_key" when text is not null:
                        row.ApiKeyProtected = _secrets.Protect(text);
                        break;
                    case "base_url" when v is null || text is "":
                        row.BaseUrl = null;
                        break;
                    case "base_url" when text is not null && Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" or "ws" or "wss":
                        row.BaseUrl = text;
                        break;
                    case "base_url":
                        problems.Add(new(null, $"{provider}.base_url", $"'{text}' is not an http(s) or ws(s) URL"));
                        break;
                    default:
                        problems.Add(new(null, $"{provider}.{field}", text is null && field == "api_key" ? "must be a string" : "is not a speech provider field (api_key, base_url)"));
                        break;
                }
            }
            row.UpdatedAt = clock.GetUtcNow();
        }
        if (problems.Count == 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return problems;
    }

    public static IEndpointRouteBuilder MapSpeechSettingsEndpoints(IEndpointRouteBuilder app)
    {
        var settings = app.MapGroup("/api/settings").RequireAuthorization(AuthSetup.Admins).WithTags("settings");
        settings.MapGet("/speech", async (SpeechAccounts accounts, CancellationToken cancellationToken) => Results.Json(await accounts.ShowAsync(cancellationToken)))
            .WithSummary("Cloud speech providers: base URL, masked key and where the key comes from");
        settings.MapPut("/speech", async (HttpRequest request, SpeechAccounts accounts, CancellationToken cancellationToken) =>
        {
            var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
            if (body is null)
            {
                return Api.BadRequest(error!);
            }
            var problems = await accounts.SaveAsync(body, cancellationToken);
            return problems.Count > 0 ? Api.Invalid(problems) : Results.Json(await accounts.ShowAsync(cancellationToken));
        }).WithSummary("Set cloud speech providers' keys (encrypted at rest) and base URLs; a masked key sent back keeps the stored one");
        return app;
    }
}
