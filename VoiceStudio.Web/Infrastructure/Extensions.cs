using Coravel;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Scalar.AspNetCore;
using Serilog;
using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Data.Identity;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Flows;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.PocketSphinx;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Agents;
using VoiceStudio.Web.Features.Auth;
using VoiceStudio.Web.Features.Calls;
using VoiceStudio.Web.Features.Database;
using VoiceStudio.Web.Features.Demo;
using VoiceStudio.Web.Features.Flows;
using VoiceStudio.Web.Features.Health;
using VoiceStudio.Web.Features.Instances;
using VoiceStudio.Web.Features.Jobs;
using VoiceStudio.Web.Features.Telephony;
using Role = VoiceStudio.Data.Identity.Role;

namespace VoiceStudio.Web.Infrastructure;

public static class Extensions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Everything the process hosts, in one DI container.</summary>
    public static WebApplicationBuilder AddVoiceStudio(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSerilog((_, logger) => Logging.Configure(logger, builder.Configuration));

        services.AddOptions<VoiceStudioSettings>().Bind(builder.Configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<VoiceStudioSettings>, VoiceStudioSettingsValidator>();
        services.AddSingleton(TimeProvider.System);

        services.AddDbContextFactory<VoiceStudioDbContext>((sp, options) =>
            VoiceStudioDbContext.Configure(options, ConnectionStrings.PostgreSql(sp.GetRequiredService<IOptions<VoiceStudioSettings>>().Value.DatabaseUrl)));
        services.AddIdentityCore<User>(options =>
            {
                // Length over character classes (NIST SP 800-63B).
                options.Password.RequiredLength = 10;
                options.Password.RequireDigit = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.User.RequireUniqueEmail = false;
            })
            .AddRoles<Role>()
            .AddEntityFrameworkStores<VoiceStudioDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.AddDataProtection()
            .SetApplicationName("VoiceStudio")
            .PersistKeysToDbContext<VoiceStudioDbContext>();
        services.AddVoiceStudioAuth();
        services.AddSingleton<TelephonyAccounts>();
        services.AddSingleton<StreamTokens>();
        services.AddSingleton<WebhookVerifier>();
        services.AddSingleton<ConcurrencySlots>();
        services.AddHttpClient(nameof(ProviderApi), client => client.Timeout = TimeSpan.FromSeconds(15));
        services.AddSingleton<ProviderApi>();
        services.AddHttpClient(AgentWebhooks.ClientName, client => client.Timeout = AgentWebhooks.Timeout);
        services.AddSingleton<AgentWebhooks>();
        services.AddSingleton<Features.Dashboard.DashboardStats>();

        services.AddSingleton<IConnectionMultiplexer>(sp =>
            ConnectionMultiplexer.Connect(ConnectionStrings.Redis(sp.GetRequiredService<IOptions<VoiceStudioSettings>>().Value.RedisUrl)));
        services.AddSingleton<RedisKeys>();

        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<InstanceHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<InstanceHeartbeat>());
        services.AddSingleton<ActiveCalls>();
        services.AddScoped<StartupRecovery>();

        services.AddSpeechAndCalls();

        services.AddScheduler();
        services.AddSingleton<DistributedJobLock>();
        services.AddTransient<RecordingCleanupJob>();
        services.AddTransient<StaleCallCleanupJob>();

        services.AddScoped(_ => Console.Out);
        services.AddScoped<MigrateCommand>();
        services.AddScoped<Seeder>();

        services.AddVoiceStudioHealthChecks();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddProblemDetails();
        // CORS for the API from DASHBOARD_URL (a dashboard served from another origin); none when it is not set.
        var origins = (builder.Configuration["DASHBOARD_URL"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(o => o.TrimEnd('/')).ToArray();
        services.AddCors(options => options.AddDefaultPolicy(policy =>
        {
            if (origins.Length > 0)
            {
                policy.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod().AllowCredentials().WithExposedHeaders("Content-Disposition");
            }
        }));
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "VoiceStudio API";
            document.Info.Description = "Bearer token from POST /api/auth/login, or an API key (vs_…) as a bearer token or the X-API-Key header. Errors are {\"detail\": …}; validation errors add errors[] naming each field.";
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes = new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>
            {
                ["bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme { Type = Microsoft.OpenApi.SecuritySchemeType.Http, Scheme = "bearer", Description = "token from /api/auth/login, or an API key" },
                ["api_key"] = new Microsoft.OpenApi.OpenApiSecurityScheme { Type = Microsoft.OpenApi.SecuritySchemeType.ApiKey, In = Microsoft.OpenApi.ParameterLocation.Header, Name = "X-API-Key" },
            };
            return Task.CompletedTask;
        }));

        // Serve package assets (MudBlazor) from the build output too, not only from a publish folder.
        builder.WebHost.UseStaticWebAssets();
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        return builder;
    }

    /// <summary>Middleware, endpoints, pages and the job schedule.</summary>
    public static WebApplication UseVoiceStudio(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options => options.GetLevel = (context, _, error) =>
            error is not null || context.Response.StatusCode >= 500 ? Serilog.Events.LogEventLevel.Error
            : context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal) || context.Request.Path.StartsWithSegments("/_blazor", StringComparison.Ordinal)
                ? Serilog.Events.LogEventLevel.Verbose
                : Serilog.Events.LogEventLevel.Information);
        app.UseExceptionHandler();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/api/docs", options => options.WithTitle("VoiceStudio API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();
        app.MapHealthEndpoints();
        app.MapDemoTools();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.MapAuthEndpoints();
        app.MapApiKeyEndpoints();
        app.MapUserEndpoints();
        app.MapFlowEndpoints();
        app.MapAgentEndpoints();
        app.MapTelephonySettingsEndpoints();
        Features.Calls.SpeechAccounts.MapSpeechSettingsEndpoints(app);
        app.MapOutboundEndpoints();
        app.MapCallEndpoints();
        app.MapMediaEndpoints();
        app.MapBrowserEndpoints();
        app.MapInboundEndpoints();
        app.MapRazorComponents<Components.App>().AddInteractiveServerRenderMode();

        app.Services.UseScheduler(scheduler =>
            {
                scheduler.Schedule<RecordingCleanupJob>().DailyAt(3, 0).PreventOverlapping(RecordingCleanupJob.Name);
                scheduler.Schedule<StaleCallCleanupJob>().EveryFiveMinutes().PreventOverlapping(StaleCallCleanupJob.Name);
            })
            .OnError(e => app.Logger.LogError(e, "Scheduled job failed"));
        return app;
    }

    /// <summary>The call engine's shared parts: speech models, the TTS cache, the VAD model, HTTP tools, the call host.</summary>
    private static IServiceCollection AddSpeechAndCalls(this IServiceCollection services)
    {
        services.AddSingleton(_ => new PocketSphinxPool(PocketSphinxModel.EnglishUs));
        services.AddSingleton<ITextToSpeech>(_ => new CachingTextToSpeech(new FliteTextToSpeech()));
        services.AddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("VoiceStudio.Media.Vad");
            return new VoiceActivityFactory(sp.GetRequiredService<IOptions<VoiceStudioSettings>>().Value.VadModelPath, warning => logger.LogWarning("{Warning}", warning));
        });
        services.AddSingleton<IToolInvoker>(sp => new HttpToolInvoker(new HttpClient(
            HttpToolInvoker.CreateHandler(sp.GetRequiredService<IOptions<VoiceStudioSettings>>().Value.ToolsAllowLinkLocal))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        }));
        services.AddSingleton<AgentRuntimeLoader>();
        services.AddSingleton<CallHost>();
        services.AddSingleton<Features.Calls.SpeechProviders>();
        services.AddSingleton<Features.Calls.SpeechAccounts>();
        // Cloud speech: a sentence or an utterance that takes longer than this is a failure (the fallback speaks).
        // A barge-in disposes the sentence's response: with no draining, the connection is closed at once and the
        // provider stops streaming audio nobody will hear.
        services.AddHttpClient("speech", client => client.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxResponseDrainSize = 0 });
        services.AddHostedService<SpeechWarmup>();
        return services;
    }
}
