using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Tools a flow node offers.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000008_FlowNodeToolIds")]
public sealed class FlowNodeToolIds : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE flow_nodes ADD COLUMN tool_ids uuid[] NOT NULL DEFAULT ('{}'::uuid[]);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE flow_nodes DROP COLUMN tool_ids;
            """);
}
