using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using VoiceStudio.Data.Identity;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Auth;

/// <summary>
/// Who may do what (SPEC §11): the dashboard signs in with an Identity cookie, API clients with a bearer token from
/// <c>POST /api/auth/login</c> or an API key (<see cref="ApiKeys"/>). One policy scheme picks between them by the request's Authorization header, so every
/// endpoint and page simply asks for a policy. Unauthenticated API and socket requests get 401 with a JSON detail;
/// pages redirect to <c>/login</c>.
/// </summary>
public static class AuthSetup
{
    public const string Scheme = "VoiceStudio";
    public const string LoginRateLimit = "login";

    /// <summary>Policy: admins and designers (flow editing, the test console).</summary>
    public const string Designers = "designers";
    public const string Admins = "admins";

    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(8);

    public static IServiceCollection AddVoiceStudioAuth(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddAuthentication(options =>
            {
                options.DefaultScheme = Scheme;
                options.DefaultChallengeScheme = Scheme;
            })
            .AddPolicyScheme(Scheme, "Dashboard cookie, bearer token or API key", options =>
                options.ForwardDefaultSelector = context =>
                    ApiKeys.FromRequest(context.Request) is not null ? ApiKeys.Scheme
                    : context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? IdentityConstants.BearerScheme
                    : IdentityConstants.ApplicationScheme)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeys.Scheme, null)
            .AddBearerToken(IdentityConstants.BearerScheme, options => options.BearerTokenExpiration = TokenLifetime)
            .AddIdentityCookies(cookies => cookies.ApplicationCookie?.Configure(options =>
            {
                options.LoginPath = "/login";
                options.LogoutPath = "/account/logout";
                options.AccessDeniedPath = "/login";
                options.ExpireTimeSpan = TimeSpan.FromHours(12);
                options.SlidingExpiration = true;
                options.Cookie.Name = "voicestudio";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Events.OnRedirectToLogin = context => Refuse(context.HttpContext, context.RedirectUri, StatusCodes.Status401Unauthorized, "sign in first: a dashboard session or a bearer token from POST /api/auth/login");
                options.Events.OnRedirectToAccessDenied = context => Refuse(context.HttpContext, context.RedirectUri, StatusCodes.Status403Forbidden, "your role does not allow this");
            }));
        services.AddAuthorizationBuilder()
            .AddPolicy(Designers, policy => policy.RequireRole(Roles.Admin, Roles.Designer))
            .AddPolicy(Admins, policy => policy.RequireRole(Roles.Admin));
        services.AddCascadingAuthenticationState();

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
                await context.HttpContext.Response.WriteAsJsonAsync(new { detail = "too many sign-in attempts from this address; wait a minute and try again" }, cancellationToken);
            options.AddPolicy(LoginRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<IOptions<VoiceStudioSettings>>().Value.LoginAttemptsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
        });
        return services;
    }

    /// <summary>API and socket requests are refused with a status and a JSON detail; pages go to the sign-in page.</summary>
    private static Task Refuse(HttpContext context, string redirectUri, int status, string detail)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/api", StringComparison.Ordinal) || path.StartsWithSegments("/ws", StringComparison.Ordinal))
        {
            context.Response.StatusCode = status;
            return context.Response.WriteAsJsonAsync(new { detail });
        }
        context.Response.Redirect(redirectUri);
        return Task.CompletedTask;
    }

    /// <summary>The bearer token format the handler reads, issued for <paramref name="principal"/>.</summary>
    public static string IssueToken(BearerTokenOptions options, System.Security.Claims.ClaimsPrincipal principal, DateTimeOffset now)
    {
        var properties = new Microsoft.AspNetCore.Authentication.AuthenticationProperties
        {
            IssuedUtc = now,
            ExpiresUtc = now + options.BearerTokenExpiration,
        };
        return options.BearerTokenProtector.Protect(new Microsoft.AspNetCore.Authentication.AuthenticationTicket(principal, properties, IdentityConstants.BearerScheme));
    }
}
