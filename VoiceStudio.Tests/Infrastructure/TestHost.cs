using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Tests.Infrastructure;

/// <summary>The app's real DI container (same registrations as production) with test settings and clock.</summary>
public static class TestHost
{
    public static ServiceProvider Services(IDictionary<string, string?> settings, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["REDIS_URL"] = TestEnvironment.RedisUrl,
            ["REDIS_KEY_PREFIX"] = TestEnvironment.NewRedisPrefix(),
            ["RECORDINGS_DIR"] = Path.Combine(Path.GetTempPath(), "vs-test-recordings", Guid.NewGuid().ToString("N")),
            ["LOG_LEVEL"] = "Warning",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddVoiceStudio();
        if (clock is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(clock));
        }
        return (ServiceProvider)builder.Build().Services;
    }
}
