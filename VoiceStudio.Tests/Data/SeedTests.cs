using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VoiceStudio.Data;
using VoiceStudio.Data.Identity;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Features.Database;

namespace VoiceStudio.Tests.Data;

public sealed class SeedTests
{
    private static readonly string[] Tables =
    [
        "agents", "flow_nodes", "flow_versions", "tools", "users", "roles", "user_roles",
        "telephony_settings", "telephony_providers", "calls", "call_events", "api_keys", "phone_numbers",
    ];

    [Fact]
    public async Task Seeding_twice_leaves_the_same_rows()
    {
        await using var database = await TestDatabase.CreateAsync();
        await SeedAsync(database, new FakeTimeProvider(DateTimeOffset.Parse("2026-11-01T10:00:00Z")));
        var first = await DumpAsync(database);
        await SeedAsync(database, new FakeTimeProvider(DateTimeOffset.Parse("2026-11-02T10:00:00Z")));
        Assert.Equal(first, await DumpAsync(database));
    }

    [Fact]
    public async Task Seed_creates_the_admin_the_demo_flow_and_two_tools()
    {
        await using var database = await TestDatabase.CreateAsync();
        var output = await SeedAsync(database, TimeProvider.System);

        await using var services = Services(database, TimeProvider.System);
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        var admin = await users.FindByNameAsync(Seeder.AdminUserName);
        Assert.NotNull(admin);
        Assert.True(await users.CheckPasswordAsync(admin, "correct-horse-battery-staple"));
        Assert.True(await users.IsInRoleAsync(admin, Roles.Admin));
        Assert.Contains("ADMIN_PASSWORD", output, StringComparison.Ordinal);
        Assert.DoesNotContain("correct-horse", output, StringComparison.Ordinal);

        var db = scope.ServiceProvider.GetRequiredService<VoiceStudioDbContext>();
        var demo = await db.Agents.Include(a => a.Nodes).Include(a => a.FlowVersions).SingleAsync(a => a.Name == Seeder.DemoAgentName);
        Assert.Equal("pocketsphinx", demo.SttProvider);
        Assert.Equal("flite", demo.TtsProvider);
        Assert.Null(demo.LlmProvider);
        Assert.Single(demo.Nodes, n => n.IsInitial);
        Assert.Contains(demo.Nodes, n => n.IsTerminal);
        Assert.Equal(1, Assert.Single(demo.FlowVersions).Version);
        var toolNames = await db.Tools.OrderBy(t => t.Name).Select(t => t.Name).ToListAsync();
        Assert.Equal(["book_appointment", "check_availability"], toolNames);
        Assert.All(demo.ToolIds, id => Assert.Contains(id, db.Tools.Select(t => t.Id)));
        Assert.Equal(3, await db.TelephonyProviders.CountAsync());
        Assert.Equal(4, await db.Roles.CountAsync());
    }

    [Fact]
    public async Task Without_ADMIN_PASSWORD_a_generated_password_is_printed_once()
    {
        await using var database = await TestDatabase.CreateAsync();
        var first = await SeedAsync(database, TimeProvider.System, adminPassword: null);
        var line = Assert.Single(first.Split('\n'), l => l.Contains("password:", StringComparison.Ordinal));
        var password = line.Split("password: ")[1].Split(' ')[0];

        await using var services = Services(database, TimeProvider.System, adminPassword: null);
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        Assert.True(await users.CheckPasswordAsync((await users.FindByNameAsync(Seeder.AdminUserName))!, password));

        var second = await SeedAsync(database, TimeProvider.System, adminPassword: null);
        Assert.DoesNotContain(password, second, StringComparison.Ordinal);
    }

    private static async Task<string> SeedAsync(TestDatabase database, TimeProvider clock, string? adminPassword = "correct-horse-battery-staple")
    {
        await using var services = Services(database, clock, adminPassword);
        await using var scope = services.CreateAsyncScope();
        var output = new StringWriter();
        await ActivatorUtilities.CreateInstance<Seeder>(scope.ServiceProvider, output).RunAsync();
        return output.ToString();
    }

    private static ServiceProvider Services(TestDatabase database, TimeProvider clock, string? adminPassword = "correct-horse-battery-staple") =>
        TestHost.Services(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = database.Url,
            ["ADMIN_PASSWORD"] = adminPassword,
        }, clock);

    private static async Task<List<string>> DumpAsync(TestDatabase database)
    {
        var rows = new List<string>();
        foreach (var table in Tables)
        {
            rows.AddRange(await database.QueryAsync($"SELECT '{table}:' || row_to_json(t)::text FROM {table} t ORDER BY 1"));
        }
        return rows;
    }
}
