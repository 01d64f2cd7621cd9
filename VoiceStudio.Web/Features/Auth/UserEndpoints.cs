using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Identity;
using VoiceStudio.Media.Flows;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Auth;

/// <summary>
/// Users (admins only, SPEC §8): list, create with a role, change role, name, email or lock, delete; and a one-time
/// password-reset link an admin hands over (there is no mail server): <c>/reset-password?user=…&amp;token=…</c>, whose
/// form posts to <c>/account/reset-password</c>. The token is Identity's; using it changes the security stamp, so
/// it works once.
/// </summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").RequireAuthorization(AuthSetup.Admins).WithTags("users");
        users.MapGet("/", async (UserManager<User> manager, CancellationToken cancellationToken) =>
        {
            var rows = await manager.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(cancellationToken);
            var result = new List<object>();
            foreach (var user in rows)
            {
                result.Add(await JsonAsync(manager, user));
            }
            return Results.Json(result);
        }).WithSummary("Users with their role");

        users.MapPost("/", async (HttpRequest request, UserManager<User> manager, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
            if (body is null)
            {
                return Api.BadRequest(error!);
            }
            var problems = new List<FlowProblem>();
            var username = Text(body, "username");
            var password = Text(body, "password");
            var role = Text(body, "role") ?? Roles.Viewer;
            if (username is null)
            {
                problems.Add(new FlowProblem(null, "username", "is required"));
            }
            if (password is null)
            {
                problems.Add(new FlowProblem(null, "password", "is required (at least 10 characters)"));
            }
            if (!Roles.All.Contains(role))
            {
                problems.Add(new FlowProblem(null, "role", $"must be one of {string.Join(", ", Roles.All)}"));
            }
            if (problems.Count > 0)
            {
                return Api.Invalid(problems);
            }
            var user = new User
            {
                UserName = username,
                Email = Text(body, "email"),
                EmailConfirmed = true,
                DisplayName = Text(body, "display_name"),
                CreatedAt = clock.GetUtcNow(),
            };
            var created = await manager.CreateAsync(user, password!);
            if (!created.Succeeded)
            {
                return Api.Invalid([.. created.Errors.Select(e => new FlowProblem(null, e.Code.Contains("Password", StringComparison.Ordinal) ? "password" : "username", e.Description))]);
            }
            await manager.AddToRoleAsync(user, role);
            return Results.Json(await JsonAsync(manager, user), statusCode: StatusCodes.Status201Created);
        }).WithSummary("Create a user with a role (admin, designer, supervisor, viewer)");

        users.MapPatch("/{id:guid}", async (Guid id, HttpRequest request, ClaimsPrincipal me, UserManager<User> manager, TimeProvider clock, CancellationToken cancellationToken) =>
        {
            var (body, error) = await Api.ReadObjectAsync(request, cancellationToken);
            if (body is null)
            {
                return Api.BadRequest(error!);
            }
            if (await manager.FindByIdAsync(id.ToString()) is not { } user)
            {
                return Api.NotFound($"user {id} does not exist");
            }
            var self = me.FindFirstValue(ClaimTypes.NameIdentifier) == id.ToString();
            foreach (var (field, _) in body)
            {
                switch (field)
                {
                    case "role":
                        var role = Text(body, "role");
                        if (role is null || !Roles.All.Contains(role))
                        {
                            return Api.Invalid([new FlowProblem(null, field, $"must be one of {string.Join(", ", Roles.All)}")]);
                        }
                        if (self && role != Roles.Admin)
                        {
                            return Api.Invalid([new FlowProblem(null, field, "you cannot take the admin role from yourself")]);
                        }
                        await manager.RemoveFromRolesAsync(user, await manager.GetRolesAsync(user));
                        await manager.AddToRoleAsync(user, role);
                        break;
                    case "display_name":
                        user.DisplayName = Text(body, field);
                        break;
                    case "email":
                        user.Email = Text(body, field);
                        break;
                    case "locked":
                        if (body[field] is not JsonValue v || !v.TryGetValue<bool>(out var locked))
                        {
                            return Api.Invalid([new FlowProblem(null, field, "must be true or false")]);
                        }
                        if (self && locked)
                        {
                            return Api.Invalid([new FlowProblem(null, field, "you cannot lock yourself out")]);
                        }
                        user.LockoutEnd = locked ? DateTimeOffset.MaxValue : null;
                        break;
                    default:
                        return Api.Invalid([new FlowProblem(null, field, "is not a user field (role, display_name, email, locked)")]);
                }
            }
            var updated = await manager.UpdateAsync(user);
            return updated.Succeeded
                ? Results.Json(await JsonAsync(manager, user))
                : Api.Invalid([.. updated.Errors.Select(e => new FlowProblem(null, "user", e.Description))]);
        }).WithSummary("Change a user's role, name, email or lock");

        users.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal me, UserManager<User> manager) =>
        {
            if (me.FindFirstValue(ClaimTypes.NameIdentifier) == id.ToString())
            {
                return Api.Problem(StatusCodes.Status409Conflict, "you cannot delete yourself");
            }
            if (await manager.FindByIdAsync(id.ToString()) is not { } user)
            {
                return Api.NotFound($"user {id} does not exist");
            }
            await manager.DeleteAsync(user);
            return Results.NoContent();
        }).WithSummary("Delete a user (and their API keys)");

        users.MapPost("/{id:guid}/reset-link", async (Guid id, HttpRequest request, UserManager<User> manager) =>
        {
            if (await manager.FindByIdAsync(id.ToString()) is not { } user)
            {
                return Api.NotFound($"user {id} does not exist");
            }
            var token = WebEncoders.Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(await manager.GeneratePasswordResetTokenAsync(user)));
            var link = $"{request.Scheme}://{request.Host}{request.PathBase}/reset-password?user={user.Id}&token={token}";
            return Results.Json(new { link, user = user.UserName, note = "give this link to the user; it works once, until the password changes" });
        }).WithSummary("A one-time password-reset link to hand to the user");

        app.MapPost("/account/reset-password", async ([FromForm] Guid user, [FromForm] string? token, [FromForm] string? password, UserManager<User> manager) =>
        {
            string Back(string message) => $"/reset-password?user={user}&token={Uri.EscapeDataString(token ?? "")}&error={Uri.EscapeDataString(message)}";
            if (await manager.FindByIdAsync(user.ToString()) is not { } account || string.IsNullOrEmpty(token))
            {
                return Results.Redirect(Back("this link is not valid"));
            }
            string decoded;
            try
            {
                decoded = System.Text.Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(token));
            }
            catch (FormatException)
            {
                return Results.Redirect(Back("this link is not valid"));
            }
            var reset = await manager.ResetPasswordAsync(account, decoded, password ?? "");
            if (!reset.Succeeded)
            {
                var invalid = reset.Errors.Any(e => e.Code == "InvalidToken");
                return Results.Redirect(Back(invalid ? "this link was used already or is no longer valid; ask an admin for a new one" : string.Join(" ", reset.Errors.Select(e => e.Description))));
            }
            await manager.ResetAccessFailedCountAsync(account);
            return Results.Redirect("/login?reset=1");
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static string? Text(JsonObject body, string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Trim().Length > 0 ? s.Trim() : null;

    private static async Task<object> JsonAsync(UserManager<User> manager, User user) => new
    {
        id = user.Id,
        username = user.UserName,
        email = user.Email,
        display_name = user.DisplayName,
        role = (await manager.GetRolesAsync(user)).FirstOrDefault(),
        locked = user.LockoutEnd is { } end && end > DateTimeOffset.UtcNow,
        created_at = user.CreatedAt,
        last_login_at = user.LastLoginAt,
    };
}
