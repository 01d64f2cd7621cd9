using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Agents;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Features.Flows;

namespace VoiceStudio.Tests.Data;

/// <summary>Two designers on one agent: drafts and publishing refuse to overwrite silently, on the real PostgreSQL.</summary>
public sealed class FlowDraftTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static JsonArray Flow(string text) => new(
        new JsonObject
        {
            ["node_key"] = "hello",
            ["type"] = "say",
            ["is_initial"] = true,
            ["config"] = new JsonObject { ["text"] = text, ["next_node_key"] = "bye" },
        },
        new JsonObject { ["node_key"] = "bye", ["type"] = "end", ["config"] = new JsonObject { ["text"] = "Goodbye" } });

    [Fact]
    public async Task A_draft_saved_from_an_old_revision_is_refused_with_who_saved_in_between()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var db = database.NewContext();
        var agent = new Agent { Id = Guid.NewGuid(), Name = "shared", CreatedAt = Now, UpdatedAt = Now };
        db.Agents.Add(agent);
        await db.SaveChangesAsync();

        var ada = await FlowDrafts.OpenAsync(db, agent, CancellationToken.None);
        var grace = await FlowDrafts.OpenAsync(db, agent, CancellationToken.None);
        Assert.Equal(0, ada.Revision);

        var first = await FlowDrafts.SaveAsync(db, agent.Id, Flow("Ada's"), ada.Revision, ada.BaseVersion, "ada", Now, CancellationToken.None);
        Assert.True(first.Saved);
        Assert.Equal(1, first.Revision);
        var second = await FlowDrafts.SaveAsync(db, agent.Id, Flow("Ada's again"), first.Revision, ada.BaseVersion, "ada", Now.AddSeconds(5), CancellationToken.None);
        Assert.Equal(2, second.Revision);

        var stale = await FlowDrafts.SaveAsync(db, agent.Id, Flow("Grace's"), grace.Revision, grace.BaseVersion, "grace", Now.AddSeconds(9), CancellationToken.None);
        Assert.False(stale.Saved);
        Assert.Equal("ada", stale.ConflictBy);
        Assert.Equal(Now.AddSeconds(5), stale.ConflictAt);
        var stored = await FlowDrafts.OpenAsync(db, agent, CancellationToken.None);
        Assert.Equal("Ada's again", stored.Document[0]!["config"]!["text"]!.GetValue<string>()); // nothing of Grace's was written

        // keeping hers means saving over the revision she has now seen
        Assert.True((await FlowDrafts.SaveAsync(db, agent.Id, Flow("Grace's"), stale.Revision, grace.BaseVersion, "grace", Now.AddSeconds(12), CancellationToken.None)).Saved);
    }

    [Fact]
    public async Task Publishing_makes_a_version_drops_the_draft_and_refuses_to_replace_a_newer_version_unless_told()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var db = database.NewContext();
        var agent = new Agent { Id = Guid.NewGuid(), Name = "published", CreatedAt = Now, UpdatedAt = Now };
        db.Agents.Add(agent);
        await db.SaveChangesAsync();

        var bad = JsonNode.Parse("""[{"node_key": "hello", "type": "say", "is_initial": true, "config": {"text": "hi", "next_node_key": "nowhere"}}]""")!.AsArray();
        var refused = await FlowDrafts.PublishAsync(db, agent, bad, null, false, null, "ada", Now, CancellationToken.None);
        Assert.False(refused.Saved);
        Assert.Contains(refused.Problems, p => p.Node == "hello" && p.Field == "config.next_node_key");

        await FlowDrafts.SaveAsync(db, agent.Id, Flow("one"), 0, null, "ada", Now, CancellationToken.None);
        var one = await FlowDrafts.PublishAsync(db, agent, Flow("one"), null, false, "first", "ada", Now, CancellationToken.None);
        Assert.Equal(1, one.Version);
        Assert.False(await db.FlowDrafts.AnyAsync(d => d.AgentId == agent.Id));
        Assert.Equal(1, (await FlowDrafts.OpenAsync(db, agent, CancellationToken.None)).CurrentVersion);

        // Grace opened before version 1 (base: none) and publishes after it
        var conflict = await FlowDrafts.PublishAsync(db, agent, Flow("two"), null, false, null, "grace", Now.AddMinutes(1), CancellationToken.None);
        Assert.False(conflict.Saved);
        Assert.Equal("ada", conflict.ConflictBy);
        Assert.Equal(1, conflict.Version);
        var forced = await FlowDrafts.PublishAsync(db, agent, Flow("two"), null, true, null, "grace", Now.AddMinutes(1), CancellationToken.None);
        Assert.Equal(2, forced.Version);
        Assert.Contains("\"two\"", (await db.FlowNodes.AsNoTracking().SingleAsync(n => n.AgentId == agent.Id && n.NodeKey == "hello")).Config, StringComparison.Ordinal);
    }
}
