using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceStudio.Media.Flows;

namespace VoiceStudio.Web.Infrastructure;

/// <summary>The REST API's error answers (<c>{"detail": …}</c>, SPEC §8) and its reading of JSON bodies.</summary>
public static class Api
{
    /// <summary>Largest JSON body the API reads (a flow of a few hundred nodes is well under 1 MB).</summary>
    public const int MaxBodyBytes = 8 * 1024 * 1024;

    public static IResult Problem(int status, string detail) => Results.Json(new { detail }, statusCode: status);

    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, detail);

    public static IResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, detail);

    /// <summary>A validation failure: one entry per node (or object) and field.</summary>
    public static IResult Invalid(IReadOnlyList<FlowProblem> problems, int status = StatusCodes.Status400BadRequest, string? detail = null) =>
        Results.Json(new
        {
            detail = detail ?? (problems.Count == 1
                ? $"{Where(problems[0])}: {problems[0].Message}"
                : $"{problems.Count} problems, the first: {Where(problems[0])}: {problems[0].Message}"),
            errors = problems.Select(p => new { node = p.Node, field = p.Field, message = p.Message }),
        }, statusCode: status);

    private static string Where(FlowProblem problem) => problem.Node is null ? problem.Field : $"{problem.Node}.{problem.Field}";

    /// <summary>The request body as a JSON object, or why it is not one.</summary>
    public static async Task<(JsonObject? Body, string? Error)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"send the body as application/json, not {type}");
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, $"the body is larger than {MaxBodyBytes / 1024 / 1024} MB");
        }
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return (null, $"the body is larger than {MaxBodyBytes / 1024 / 1024} MB");
                }
                buffer.Write(chunk, 0, read);
            }
            if (buffer.Length == 0)
            {
                return (null, "the body is empty: send a JSON object");
            }
            buffer.Position = 0;
            return JsonNode.Parse(buffer) is JsonObject body ? (body, null) : (null, "the body must be a JSON object");
        }
        catch (JsonException e)
        {
            return (null, $"the body is not valid JSON: {e.Message}");
        }
    }
}
