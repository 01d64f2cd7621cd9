using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Per-provider limit of concurrent calls (default 10).</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000007_TelephonyConcurrencyLimits")]
public sealed class TelephonyConcurrencyLimits : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE telephony_providers
                ADD COLUMN max_concurrent integer NOT NULL DEFAULT 10,
                ADD CONSTRAINT ck_telephony_providers_max_concurrent CHECK (max_concurrent >= 0);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE telephony_providers DROP COLUMN max_concurrent;
            """);
}
