using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Features.Database;

namespace VoiceStudio.Tests.Data;

public sealed class MigrationTests
{
    private static readonly string[] SeedChain =
    [
        "001_InitialCallsAgentsEvents", "002_AgentServiceFields", "003_AgentProviderSettings", "004_PipelineSettings",
        "005_ToolsAndFlowNodes", "006_TelephonySettings", "007_TelephonyConcurrencyLimits", "008_FlowNodeToolIds",
        "009_AgentPreCallToolIds", "010_VobizProvider", "011_AgentContextVariables", "012_ExtendedEventTypes",
    ];

    [Fact]
    public async Task The_first_twelve_migrations_carry_the_seed_chain_names_in_order()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: false);
        await using var db = database.NewContext();
        var ids = db.Database.GetMigrations().ToList();
        Assert.Equal(SeedChain, ids.Take(12).Select(id => $"{int.Parse(id[..14], System.Globalization.CultureInfo.InvariantCulture):000}_{id[15..]}"));
        Assert.True(ids.Count > 12);
    }

    [Fact]
    public async Task Migrations_on_an_empty_database_give_exactly_the_model_schema()
    {
        await using var migrated = await TestDatabase.CreateAsync(migrated: true);
        await using var fromModel = await TestDatabase.CreateAsync(migrated: false);
        await using (var db = fromModel.NewContext())
        {
            await fromModel.ExecuteAsync(db.Database.GenerateCreateScript());
        }

        var expected = await SchemaSnapshot.ReadAsync(fromModel);
        var actual = await SchemaSnapshot.ReadAsync(migrated);
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"the migrations differ from the model.\nOnly in the model:\n  {string.Join("\n  ", missing)}\nOnly in the migrated database:\n  {string.Join("\n  ", extra)}");
        Assert.Contains(actual, line => line.StartsWith("constraint calls.ck_calls_status", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_model_snapshot_matches_the_model()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: false);
        await using var db = database.NewContext();
        Assert.False(db.Database.HasPendingModelChanges(), "the model changed without a migration: run `migrations-scaffold <Name>`");
    }

    [Fact]
    public async Task Migrations_roll_back_to_base_and_up_again()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: true);
        var full = await SchemaSnapshot.ReadAsync(database);
        await using var db = database.NewContext();
        var migrate = new MigrateCommand(db, TextWriter.Null);

        Assert.Equal(0, await migrate.RunAsync(["base"]));
        Assert.Empty(await SchemaSnapshot.ReadAsync(database));
        Assert.Equal("base", await migrate.CurrentAsync());

        Assert.Equal(0, await migrate.RunAsync([]));
        Assert.Equal(full, await SchemaSnapshot.ReadAsync(database));
        Assert.Equal(db.Database.GetMigrations().Last(), await migrate.CurrentAsync());
    }

    [Fact]
    public async Task Migrate_to_a_version_goes_down_to_it_and_back_up()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: true);
        await using var db = database.NewContext();
        var migrate = new MigrateCommand(db, TextWriter.Null);

        Assert.Equal(0, await migrate.RunAsync(["to", "7"]));
        Assert.Equal("00000000000007_TelephonyConcurrencyLimits", await migrate.CurrentAsync());
        var columns = await database.QueryAsync("SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'");
        Assert.Contains("telephony_providers.max_concurrent", columns);
        Assert.DoesNotContain("flow_nodes.tool_ids", columns);     // 008
        Assert.DoesNotContain("agents.context_variables", columns); // 011
        Assert.DoesNotContain("users.id", columns);                 // 013

        Assert.Equal(0, await migrate.RunAsync(["to", "ExtendedEventTypes"]));
        Assert.Equal("00000000000012_ExtendedEventTypes", await migrate.CurrentAsync());
        Assert.Equal(2, await migrate.RunAsync(["to", "999"]));
        Assert.Equal(0, await migrate.RunAsync(["up"]));
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Rolling_back_the_vobiz_migration_refuses_nothing_and_keeps_other_providers()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: true);
        await database.ExecuteAsync("""
            INSERT INTO calls (id, agent_name, provider, direction, status) VALUES
              ('00000000-0000-0000-0000-000000000001', 'a', 'twilio', 'inbound', 'completed'),
              ('00000000-0000-0000-0000-000000000002', 'a', 'vobiz', 'inbound', 'completed');
            """);
        await using var db = database.NewContext();
        await db.GetService<IMigrator>().MigrateAsync("00000000000009_AgentPreCallToolIds");
        Assert.Equal(["twilio"], await database.QueryAsync("SELECT provider FROM calls"));
    }

    [Theory]
    [InlineData("INSERT INTO calls (id, agent_name, provider, direction, status) VALUES (gen_random_uuid(), 'a', 'twilio', 'inbound', 'bogus')", "ck_calls_status")]
    [InlineData("INSERT INTO calls (id, agent_name, provider, direction, status) VALUES (gen_random_uuid(), 'a', 'skype', 'inbound', 'ringing')", "ck_calls_provider")]
    [InlineData("INSERT INTO tools (id, name, description, webhook_url, method, timeout_seconds) VALUES (gen_random_uuid(), 'Bad Name', '', 'http://x', 'POST', 10)", "ck_tools_name")]
    [InlineData("INSERT INTO tools (id, name, description, webhook_url, method, timeout_seconds) VALUES (gen_random_uuid(), 'ok', '', 'http://x', 'PUT', 10)", "ck_tools_method")]
    [InlineData("INSERT INTO agents (id, name, system_prompt, stt_provider, stt_language, llm_temperature, llm_max_tokens, tts_provider, tts_language) VALUES (gen_random_uuid(), 'Has Spaces', '', 's', 'en', 0.5, 10, 't', 'en')", "ck_agents_name")]
    [InlineData("INSERT INTO telephony_providers (provider, enabled, max_concurrent) VALUES ('twilio', true, -1)", "ck_telephony_providers_max_concurrent")]
    [InlineData("INSERT INTO phone_numbers (id, number, provider) VALUES (gen_random_uuid(), '0123', 'twilio')", "ck_phone_numbers_number")]
    [InlineData("INSERT INTO call_events (call_id, type) VALUES (gen_random_uuid(), 'user_spoke')", "fk_call_events_calls_call_id")]
    public async Task Constraints_reject_bad_rows(string insert, string constraint)
    {
        await using var database = await TestDatabase.CreateAsync(migrated: true);
        var error = await Assert.ThrowsAsync<PostgresException>(() => database.ExecuteAsync(insert));
        Assert.Equal(constraint, error.ConstraintName);
    }

    [Fact]
    public async Task Only_one_initial_node_per_agent()
    {
        await using var database = await TestDatabase.CreateAsync(migrated: true);
        await database.ExecuteAsync("""
            INSERT INTO agents (id, name, system_prompt, stt_provider, stt_language, llm_temperature, llm_max_tokens, tts_provider, tts_language)
            VALUES ('00000000-0000-0000-0000-0000000000a1', 'a1', '', 's', 'en', 0.5, 10, 't', 'en');
            INSERT INTO flow_nodes (id, agent_id, node_key, type, is_initial, is_terminal, is_global, allow_interrupt, position_x, position_y)
            VALUES (gen_random_uuid(), '00000000-0000-0000-0000-0000000000a1', 'one', 'say', true, false, false, true, 0, 0);
            """);
        var error = await Assert.ThrowsAsync<PostgresException>(() => database.ExecuteAsync("""
            INSERT INTO flow_nodes (id, agent_id, node_key, type, is_initial, is_terminal, is_global, allow_interrupt, position_x, position_y)
            VALUES (gen_random_uuid(), '00000000-0000-0000-0000-0000000000a1', 'two', 'say', true, false, false, true, 0, 0);
            """));
        Assert.Equal("ix_flow_nodes_one_initial_per_agent", error.ConstraintName);
    }
}
