using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Vobiz as a telephony provider.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000010_VobizProvider")]
public sealed class VobizProvider : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE telephony_settings DROP CONSTRAINT ck_telephony_settings_default_provider,
                ADD CONSTRAINT ck_telephony_settings_default_provider CHECK (default_provider IN ('twilio', 'exotel', 'vobiz'));
            ALTER TABLE telephony_providers DROP CONSTRAINT ck_telephony_providers_provider,
                ADD CONSTRAINT ck_telephony_providers_provider CHECK (provider IN ('twilio', 'exotel', 'vobiz'));
            ALTER TABLE calls DROP CONSTRAINT ck_calls_provider,
                ADD CONSTRAINT ck_calls_provider CHECK (provider IN ('twilio', 'exotel', 'vobiz', 'browser'));
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DELETE FROM calls WHERE provider = 'vobiz';
            DELETE FROM telephony_providers WHERE provider = 'vobiz';
            UPDATE telephony_settings SET default_provider = 'twilio' WHERE default_provider = 'vobiz';
            ALTER TABLE telephony_settings DROP CONSTRAINT ck_telephony_settings_default_provider,
                ADD CONSTRAINT ck_telephony_settings_default_provider CHECK (default_provider IN ('twilio', 'exotel'));
            ALTER TABLE telephony_providers DROP CONSTRAINT ck_telephony_providers_provider,
                ADD CONSTRAINT ck_telephony_providers_provider CHECK (provider IN ('twilio', 'exotel'));
            ALTER TABLE calls DROP CONSTRAINT ck_calls_provider,
                ADD CONSTRAINT ck_calls_provider CHECK (provider IN ('twilio', 'exotel', 'browser'));
            """);
}
