using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Pipeline settings (VAD, turn detection, interruptions, idle) as a JSON document.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000004_PipelineSettings")]
public sealed class PipelineSettings : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents ADD COLUMN pipeline_settings jsonb NOT NULL DEFAULT ('{}'::jsonb);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents DROP COLUMN pipeline_settings;
            """);
}
