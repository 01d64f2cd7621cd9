using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Per-provider agent options as a JSON document.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000003_AgentProviderSettings")]
public sealed class AgentProviderSettings : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents ADD COLUMN provider_settings jsonb NOT NULL DEFAULT ('{}'::jsonb);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents DROP COLUMN provider_settings;
            """);
}
