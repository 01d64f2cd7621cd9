using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Agent variable defaults and each call's variables.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000011_AgentContextVariables")]
public sealed class AgentContextVariables : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents ADD COLUMN context_variables jsonb NOT NULL DEFAULT ('{}'::jsonb);
            ALTER TABLE calls ADD COLUMN context_variables jsonb NOT NULL DEFAULT ('{}'::jsonb);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE calls DROP COLUMN context_variables;
            ALTER TABLE agents DROP COLUMN context_variables;
            """);
}
