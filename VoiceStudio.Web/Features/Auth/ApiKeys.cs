using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Identity;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Auth;

/// <summary>
/// API keys for integrators (SPEC §8, §11): <c>vs_</c> and 43 random characters, shown once, stored as a SHA-256
/// hash, acting as the user who made them (with that user's roles), revocable, with the time of last use. Sent as
/// <c>Authorization: Bearer vs_…</c> or <c>X-API-Key: vs_…</c>.
/// </summary>
public static class ApiKeys
{
    public const string Scheme = "ApiKey";
    public const string Prefix = "vs_";

    public static string NewKey() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The key a request carries, if it carries one.</summary>
    public static string? FromRequest(HttpRequest request)
    {
        if (request.Headers["X-API-Key"].ToString() is { Length: > 0 } header)
        {
            return header.Trim();
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer " + Prefix, StringComparison.Ordinal) ? authorization[7..].Trim() : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static IEndpointRouteBuilder MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/auth/keys").RequireAuthorization().WithTags("auth");
        keys.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
            if (body is null)
            {
                return Api.BadRequest(error!);
            }
            var name = body["name"]?.ToString().Trim();
            if (string.IsNullOrEmpty(name) || name.Length > 100)
            {
                return Api.Invalid([new Media.Flows.FlowProblem(null, "name", "give the key a name of 1 to 100 characters (what it is for)")]);
            }
            var key = NewKey();
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var row = new ApiKey
            {
                Id = Guid.CreateVersion7(),
                UserId = Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!),
                Name = name,
                Prefix = key[..10],
                KeyHash = Hash(key),
                CreatedAt = clock.GetUtcNow(),
            };
            db.ApiKeys.Add(row);
            await db.SaveChangesAsync(cancellationToken);
            return Results.Json(new { id = row.Id, name, prefix = row.Prefix, key, created_at = row.CreatedAt, note = "the key is shown this once; store it now" },
                statusCode: StatusCodes.Status201Created);
        }).WithSummary("Create an API key acting as you (shown once)");

        keys.MapGet("/", async (ClaimsPrincipal user, bool? all, IDbContextFactory<VoiceStudioDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            var me = Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);
            var everyone = all == true && user.IsInRole(Roles.Admin);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var rows = await db.ApiKeys.AsNoTracking().Where(k => everyone || k.UserId == me).OrderByDescending(k => k.CreatedAt)
                .Select(k => new { k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt, User = k.User!.UserName }).ToListAsync(cancellationToken);
            return Results.Json(rows.Select(k => new
            {
                id = k.Id,
                name = k.Name,
                prefix = k.Prefix,
                user = k.User,
                created_at = k.CreatedAt,
                last_used_at = k.LastUsedAt,
                revoked_at = k.RevokedAt,
            }));
        }).WithSummary("Your API keys (admins: ?all=true for everyone's)");

        keys.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal user, IDbContextFactory<VoiceStudioDbContext> dbFactory, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var me = Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!);
            var admin = user.IsInRole(Roles.Admin);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var row = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && (admin || k.UserId == me), cancellationToken);
            if (row is null)
            {
                return Api.NotFound($"API key {id} does not exist");
            }
            row.RevokedAt ??= clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return Results.NoContent();
        }).WithSummary("Revoke an API key (yours; admins: anyone's)");
        return app;
    }
}

/// <summary>Authenticates a request by its API key: the key's user, with that user's roles, unless revoked or locked out.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDbContextFactory<VoiceStudioDbContext> dbFactory,
    SignInManager<User> signIn,
    TimeProvider clock) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ApiKeys.FromRequest(Request) is not { } key)
        {
            return AuthenticateResult.NoResult();
        }
        var hash = ApiKeys.Hash(key);
        await using var db = await dbFactory.CreateDbContextAsync(Context.RequestAborted);
        var row = await db.ApiKeys.AsNoTracking().Include(k => k.User).FirstOrDefaultAsync(k => k.KeyHash == hash, Context.RequestAborted);
        if (row?.User is null || row.RevokedAt is not null)
        {
            return AuthenticateResult.Fail("the API key is not valid or was revoked");
        }
        if (await signIn.UserManager.IsLockedOutAsync(row.User))
        {
            return AuthenticateResult.Fail("the API key's user is locked out");
        }
        var now = clock.GetUtcNow();
        if (row.LastUsedAt is null || now - row.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.ApiKeys.Where(k => k.Id == row.Id).ExecuteUpdateAsync(k => k.SetProperty(x => x.LastUsedAt, now), Context.RequestAborted);
        }
        var principal = await signIn.CreateUserPrincipalAsync(row.User);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim("api_key_id", row.Id.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message ?? "an API key is required";
        await Response.WriteAsJsonAsync(new { detail = failure });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new { detail = "your role does not allow this" });
    }
}
