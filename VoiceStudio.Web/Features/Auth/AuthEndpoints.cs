using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using VoiceStudio.Data.Identity;

namespace VoiceStudio.Web.Features.Auth;

/// <summary>
/// Signing in: <c>POST /api/auth/login</c> (JSON, answers a bearer token), <c>GET /api/auth/me</c>, and the dashboard's
/// form posts <c>/account/login</c> and <c>/account/logout</c> (cookie). Wrong passwords count towards Identity's
/// lockout (5 in a row lock the account for 5 minutes) and each address may try LOGIN_ATTEMPTS_PER_MINUTE (default 10) times a minute.
/// </summary>
public static class AuthEndpoints
{
    public sealed record LoginRequest(string? Username, string? Password);

    public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string Username, IReadOnlyList<string> Roles);

    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/auth/login", async (LoginRequest? request, SignInManager<User> signIn, IOptionsMonitor<BearerTokenOptions> bearer, TimeProvider clock) =>
            {
                var (user, problem, status) = await CheckAsync(signIn, request?.Username, request?.Password, clock);
                if (user is null)
                {
                    return Results.Json(new { detail = problem }, statusCode: status);
                }
                var principal = await signIn.CreateUserPrincipalAsync(user);
                var options = bearer.Get(IdentityConstants.BearerScheme);
                return Results.Json(new TokenResponse(
                    AuthSetup.IssueToken(options, principal, clock.GetUtcNow()), "Bearer", (int)options.BearerTokenExpiration.TotalSeconds,
                    user.UserName!, [.. principal.FindAll(ClaimTypes.Role).Select(c => c.Value)]), SnakeCase);
            })
            .RequireRateLimiting(AuthSetup.LoginRateLimit)
            .AllowAnonymous()
            .WithTags("auth")
            .WithSummary("Exchange a username and password for a bearer token");

        app.MapGet("/api/auth/me", (ClaimsPrincipal user) => Results.Json(new
        {
            id = user.FindFirstValue(ClaimTypes.NameIdentifier),
            username = user.Identity?.Name,
            roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToArray(),
        }))
            .RequireAuthorization()
            .WithTags("auth")
            .WithSummary("The signed-in user");

        app.MapPost("/account/login", async ([FromForm] string? username, [FromForm] string? password, [FromForm] string? returnUrl,
                SignInManager<User> signIn, TimeProvider clock) =>
            {
                var target = LocalUrl(returnUrl);
                var (user, problem, _) = await CheckAsync(signIn, username, password, clock);
                if (user is null)
                {
                    return Results.Redirect($"/login?error={Uri.EscapeDataString(problem!)}&returnUrl={Uri.EscapeDataString(target)}");
                }
                await signIn.SignInAsync(user, isPersistent: true);
                return Results.LocalRedirect(target);
            })
            .RequireRateLimiting(AuthSetup.LoginRateLimit)
            .AllowAnonymous()
            .ExcludeFromDescription();

        app.MapPost("/account/logout", async (SignInManager<User> signIn) =>
            {
                await signIn.SignOutAsync();
                return Results.LocalRedirect("/login");
            })
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>The user when the password is right and the account may sign in; otherwise why not, and the status to answer.</summary>
    private static async Task<(User? User, string? Problem, int Status)> CheckAsync(SignInManager<User> signIn, string? username, string? password, TimeProvider clock)
    {
        if (string.IsNullOrWhiteSpace(username))
        {
            return (null, "username is required", StatusCodes.Status400BadRequest);
        }
        if (string.IsNullOrEmpty(password))
        {
            return (null, "password is required", StatusCodes.Status400BadRequest);
        }
        var users = signIn.UserManager;
        var user = await users.FindByNameAsync(username.Trim()) ?? await users.FindByEmailAsync(username.Trim());
        if (user is null)
        {
            return (null, "wrong username or password", StatusCodes.Status401Unauthorized);
        }
        var result = await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            var until = await users.GetLockoutEndDateAsync(user);
            var minutes = until is { } end ? Math.Max(1, (int)Math.Ceiling((end - clock.GetUtcNow()).TotalMinutes)) : 5;
            return (null, $"this account is locked after too many wrong passwords; try again in {minutes} minute{(minutes == 1 ? "" : "s")}", StatusCodes.Status423Locked);
        }
        if (!result.Succeeded)
        {
            return (null, result.IsNotAllowed ? "this account may not sign in" : "wrong username or password",
                result.IsNotAllowed ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized);
        }
        user.LastLoginAt = clock.GetUtcNow();
        await users.UpdateAsync(user);
        return (user, null, StatusCodes.Status200OK);
    }

    private static string LocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";

    private static readonly System.Text.Json.JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
}
