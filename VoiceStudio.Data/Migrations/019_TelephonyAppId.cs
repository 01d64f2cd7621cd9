using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>The Exotel app (flow) id outbound calls are connected to.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000019_TelephonyAppId")]
public sealed class TelephonyAppId : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("ALTER TABLE telephony_providers ADD COLUMN app_id text;");

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("ALTER TABLE telephony_providers DROP COLUMN app_id;");
}
