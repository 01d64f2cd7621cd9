using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceStudio.Tests.Flows;

/// <summary>A real HTTP server on loopback that answers like the tools a flow calls: fine, slow, failing, garbled.</summary>
public sealed class ToolServer : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Every request body (or query) received, by path.</summary>
    public ConcurrentQueue<(string Path, string Body)> Requests { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Request.Body.Position = 0;
            Requests.Enqueue((context.Request.Path, body.Length > 0 ? body : context.Request.QueryString.Value ?? ""));
            await next(context);
        });
        _app.MapPost("/lookup", (JsonObject body) => Results.Json(new { name = "Ada", vip = true, plan = new { tier = "gold", seats = new[] { 3, 5 } }, echoed = body["number"]?.ToString() }));
        _app.MapGet("/lookup", (string? number) => Results.Json(new { name = "Grace", number }));
        _app.MapPost("/fail", () => Results.Json(new { detail = "no slots on that day" }, statusCode: 409));
        _app.MapPost("/slow", async () => { await Task.Delay(5000); return Results.Ok(); });
        _app.MapPost("/garbled", () => Results.Text("{\"broken\": ", "application/json"));
        _app.MapPost("/text", () => Results.Text("plain words", "text/plain"));
        await _app.StartAsync();
        BaseUri = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
