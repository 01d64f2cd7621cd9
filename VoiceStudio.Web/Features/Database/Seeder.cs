using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceStudio.Data;
using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Calls;
using VoiceStudio.Data.Identity;
using VoiceStudio.Data.Telephony;
using VoiceStudio.Data.Tools;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Database;

/// <summary>
/// `seed`: the roles, an admin user, the demo agent with its flow (embedded speech, no LLM), two sample tools and
/// the telephony settings rows. Idempotent: what exists is left exactly as it is.
/// </summary>
public sealed class Seeder(
    VoiceStudioDbContext db,
    UserManager<User> users,
    RoleManager<Role> roles,
    IOptions<VoiceStudioSettings> settings,
    IConfiguration configuration,
    TimeProvider clock,
    TextWriter output)
{
    public const string AdminUserName = "admin";
    public const string DemoAgentName = "demo";

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new Role { Name = role }), $"role {role}");
            }
        }
        await SeedAdminAsync();
        var tools = await SeedToolsAsync(cancellationToken);
        await SeedDemoAgentAsync(tools, cancellationToken);
        await SeedTelephonyAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await output.WriteLineAsync("Seed complete.");
    }

    private async Task SeedAdminAsync()
    {
        if (await users.FindByNameAsync(AdminUserName) is not null)
        {
            await output.WriteLineAsync($"Admin user '{AdminUserName}' exists; left unchanged.");
            return;
        }
        var fromEnvironment = configuration["ADMIN_PASSWORD"];
        var password = string.IsNullOrEmpty(fromEnvironment) ? GeneratePassword() : fromEnvironment;
        var admin = new User { UserName = AdminUserName, Email = "admin@voicestudio.local", EmailConfirmed = true, DisplayName = "Administrator", CreatedAt = clock.GetUtcNow() };
        Check(await users.CreateAsync(admin, password), "admin user");
        Check(await users.AddToRoleAsync(admin, Roles.Admin), "admin role");
        await output.WriteLineAsync(string.IsNullOrEmpty(fromEnvironment)
            ? $"Created admin user '{AdminUserName}' with password: {password}   (shown once; set ADMIN_PASSWORD to choose it)"
            : $"Created admin user '{AdminUserName}' with the password from ADMIN_PASSWORD.");
    }

    private async Task<Dictionary<string, Tool>> SeedToolsAsync(CancellationToken cancellationToken)
    {
        var baseUrl = (settings.Value.PublicBaseUrl ?? configuration["LOCAL_BASE_URL"] ?? "http://127.0.0.1:5080").TrimEnd('/');
        Tool[] samples =
        [
            new()
            {
                Name = "check_availability",
                Description = "Checks whether the practice has free appointment slots on a day.",
                Parameters = """{"type":"object","properties":{"day":{"type":"string","description":"Day of the week, e.g. monday"}},"required":["day"]}""",
                WebhookUrl = $"{baseUrl}/demo/tools/check-availability",
            },
            new()
            {
                Name = "book_appointment",
                Description = "Books an appointment for a caller on a day and returns a confirmation code.",
                Parameters = """{"type":"object","properties":{"name":{"type":"string","description":"Caller's name"},"day":{"type":"string","description":"Day of the week"}},"required":["day"]}""",
                WebhookUrl = $"{baseUrl}/demo/tools/book-appointment",
            },
        ];
        var result = new Dictionary<string, Tool>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            var existing = await db.Tools.FirstOrDefaultAsync(t => t.Name == sample.Name, cancellationToken);
            if (existing is null)
            {
                sample.Id = Guid.CreateVersion7();
                sample.CreatedAt = sample.UpdatedAt = clock.GetUtcNow();
                db.Tools.Add(sample);
                await output.WriteLineAsync($"Created tool {sample.Name}.");
            }
            result[sample.Name] = existing ?? sample;
        }
        return result;
    }

    private async Task SeedDemoAgentAsync(Dictionary<string, Tool> tools, CancellationToken cancellationToken)
    {
        if (await db.Agents.AnyAsync(a => a.Name == DemoAgentName, cancellationToken))
        {
            await output.WriteLineAsync($"Agent '{DemoAgentName}' exists; left unchanged.");
            return;
        }
        var now = clock.GetUtcNow();
        var agent = new Agent
        {
            Id = Guid.CreateVersion7(),
            Name = DemoAgentName,
            Description = "Appointment booking demo on the embedded speech providers (PocketSphinx, Flite); no LLM needed.",
            SystemPrompt = "You are the friendly receptionist of the Riverside practice.",
            Greeting = "Hello, and thank you for calling the Riverside practice.",
            ToolIds = [tools["check_availability"].Id, tools["book_appointment"].Id],
            ContextVariables = """{"practice":"Riverside practice","caller_name":"","day":""}""",
            CreatedAt = now,
            UpdatedAt = now,
        };
        agent.Nodes.AddRange(DemoFlow.Nodes(tools, now));
        db.Agents.Add(agent);
        db.FlowVersions.Add(new FlowVersion
        {
            Id = Guid.CreateVersion7(),
            AgentId = agent.Id,
            Version = 1,
            Definition = DemoFlow.Definition(agent.Nodes),
            Note = "Seeded demo flow",
            CreatedBy = "seed",
            CreatedAt = now,
        });
        await output.WriteLineAsync($"Created agent '{DemoAgentName}' with a {agent.Nodes.Count}-node flow.");
    }

    private async Task SeedTelephonyAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (!await db.TelephonySettings.AnyAsync(cancellationToken))
        {
            db.TelephonySettings.Add(new TelephonySettings
            {
                PublicBaseUrl = settings.Value.PublicBaseUrl,
                DefaultProvider = EnumNames.Parse<TelephonyProvider>(settings.Value.TelephonyProvider),
                UpdatedAt = now,
            });
        }
        var present = await db.TelephonyProviders.Select(p => p.Provider).ToListAsync(cancellationToken);
        foreach (var provider in new[] { TelephonyProvider.Twilio, TelephonyProvider.Exotel, TelephonyProvider.Vobiz }.Except(present))
        {
            db.TelephonyProviders.Add(new TelephonyProviderSettings { Provider = provider, UpdatedAt = now });
        }
    }

    private static string GeneratePassword() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', 'x').Replace('/', 'y');

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Could not create {what}: {string.Join("; ", result.Errors.Select(e => e.Description))}");
        }
    }
}

/// <summary>
/// The demo agent's flow: greet and ask what the caller wants (voice or DTMF), tell the opening hours, or collect a
/// day and a name, check availability, book, confirm, say goodbye.
/// </summary>
public static class DemoFlow
{
    public static IEnumerable<FlowNode> Nodes(IReadOnlyDictionary<string, Tool> tools, DateTimeOffset now)
    {
        var order = 0;
        FlowNode Node(string key, FlowNodeType type, double x, double y, object config, bool initial = false, bool terminal = false) => new()
        {
            Id = Guid.CreateVersion7(),
            NodeKey = key,
            Type = type,
            IsInitial = initial,
            IsTerminal = terminal,
            PositionX = x,
            PositionY = y,
            Config = JsonSerializer.Serialize(config),
            BuiltinTools = terminal ? ["end_call"] : [],
            // a microsecond apart: nodes are listed in creation order
            CreatedAt = now.AddTicks(order++ * TimeSpan.TicksPerMicrosecond),
            UpdatedAt = now,
        };

        yield return Node("main_menu", FlowNodeType.Ask, 0, 0, new
        {
            prompt = "Would you like to book an appointment, or hear our opening hours? You can also press one to book, or two for opening hours.",
            intents = new object[]
            {
                new { name = "book", phrases = new[] { "book an appointment", "appointment", "book" }, dtmf = "1", next_node_key = "ask_day" },
                new { name = "hours", phrases = new[] { "opening hours", "hours", "when are you open" }, dtmf = "2", next_node_key = "opening_hours" },
            },
            no_match = new { reprompt = "Sorry, I did not catch that. Say book, or hours.", max = 2 },
            no_input = new { reprompt = "Are you still there? Say book, or hours.", max = 2 },
            fallback_node_key = "goodbye",
        }, initial: true);
        yield return Node("opening_hours", FlowNodeType.Say, 0, 160, new
        {
            text = "We are open Monday to Friday, from nine in the morning to five in the afternoon.",
            next_node_key = "goodbye",
        });
        yield return Node("ask_day", FlowNodeType.Ask, 320, 0, new
        {
            prompt = "Which day would you like to come in? Monday to Friday.",
            captures = new object[] { new { variable = "day", pattern = "weekday", phrases = new[] { "monday", "tuesday", "wednesday", "thursday", "friday" } } },
            next_node_key = "ask_name",
            no_match = new { reprompt = "Please say a weekday, like Tuesday.", max = 2 },
            fallback_node_key = "goodbye",
        });
        yield return Node("ask_name", FlowNodeType.Ask, 640, 0, new
        {
            prompt = "And what is your first name?",
            // The phrases let the embedded recognizer hear a name on a phone line; other names need a cloud STT (issue 8).
            captures = new object[] { new { variable = "caller_name", pattern = "name", phrases = CommonFirstNames } },
            next_node_key = "check_availability",
            fallback_node_key = "check_availability",
        });
        yield return Node("check_availability", FlowNodeType.Tool, 960, 0, new
        {
            tool_id = tools["check_availability"].Id,
            arguments = new { day = "{{day}}" },
            result_variables = new { available = "available" },
            on_success_node_key = "book",
            on_failure_node_key = "sorry",
        });
        yield return Node("book", FlowNodeType.Tool, 960, 160, new
        {
            tool_id = tools["book_appointment"].Id,
            arguments = new { name = "{{caller_name}}", day = "{{day}}" },
            result_variables = new { confirmation = "confirmation" },
            on_success_node_key = "confirm",
            on_failure_node_key = "sorry",
        });
        yield return Node("confirm", FlowNodeType.Say, 960, 320, new
        {
            text = "Thank you {{caller_name}}. You are booked for {{day}}. Your confirmation code is {{confirmation}}.",
            next_node_key = "goodbye",
        });
        yield return Node("sorry", FlowNodeType.Say, 640, 320, new
        {
            text = "Sorry, we could not book that day. Please call again or try another day.",
            next_node_key = "goodbye",
        });
        yield return Node("goodbye", FlowNodeType.End, 320, 480, new { text = "Thank you for calling. Goodbye!" }, terminal: true);
    }

    private static readonly string[] CommonFirstNames =
    [
        "alice", "anna", "bob", "carol", "daniel", "david", "emma", "frank", "george", "grace", "henry", "james", "john", "kate", "laura",
        "linda", "lisa", "mark", "mary", "michael", "nancy", "olivia", "paul", "peter", "rachel", "robert", "sarah", "susan", "thomas", "william",
    ];

    /// <summary>The flow as stored in a flow version.</summary>
    public static string Definition(IEnumerable<FlowNode> nodes) => Flows.FlowDocument.Write(nodes).ToJsonString();
}
