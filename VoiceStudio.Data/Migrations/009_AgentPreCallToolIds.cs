using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Tools run before the call's first turn.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000009_AgentPreCallToolIds")]
public sealed class AgentPreCallToolIds : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents ADD COLUMN pre_call_tool_ids uuid[] NOT NULL DEFAULT ('{}'::uuid[]);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents DROP COLUMN pre_call_tool_ids;
            """);
}
