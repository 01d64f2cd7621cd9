using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VoiceStudio.Web.Features.Demo;

/// <summary>
/// The HTTP endpoints behind the seeded sample tools, so the demo agent's flow works with no outside service:
/// availability by weekday, and a booking that answers with a confirmation code derived from name and day.
/// </summary>
public static class DemoToolEndpoints
{
    private static readonly string[] Weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    private static readonly string[] Weekend = ["saturday", "sunday"];

    public sealed record AvailabilityRequest(string? Day);
    public sealed record BookingRequest(string? Name, string? Day);

    public static IEndpointRouteBuilder MapDemoTools(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/demo/tools").WithTags("demo tools");
        group.MapPost("/check-availability", (AvailabilityRequest request) =>
        {
            var day = Normalize(request.Day);
            if (Array.IndexOf(Weekdays, day) >= 0)
            {
                return Results.Ok(new { available = true, day, slots = new[] { "09:30", "11:00", "14:30" } });
            }
            return Array.IndexOf(Weekend, day) >= 0
                ? Results.Json(new { detail = $"The practice is closed on {day}.", available = false, day }, statusCode: StatusCodes.Status409Conflict)
                : Results.Json(new { detail = "day must be a day of the week, e.g. monday" }, statusCode: StatusCodes.Status422UnprocessableEntity);
        });
        group.MapPost("/book-appointment", (BookingRequest request) =>
        {
            var day = Normalize(request.Day);
            if (Array.IndexOf(Weekdays, day) < 0)
            {
                return Results.Json(new { detail = "day must be a weekday, monday to friday" }, statusCode: StatusCodes.Status422UnprocessableEntity);
            }
            var name = string.IsNullOrWhiteSpace(request.Name) ? "caller" : request.Name.Trim();
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{name.ToUpperInvariant()}|{day}"));
            var code = (BitConverter.ToUInt32(hash, 0) % 10000).ToString("0000", CultureInfo.InvariantCulture);
            return Results.Ok(new { booked = true, name, day, time = "09:30", confirmation = $"RV{code}" });
        });
        return app;
    }

    private static string Normalize(string? day) => (day ?? "").Trim().ToLowerInvariant();
}
