using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Telephony settings shared by all providers and per provider (Twilio, Exotel).</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000006_TelephonySettings")]
public sealed class TelephonySettings : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE telephony_settings (
                id integer NOT NULL,
                public_base_url text,
                default_provider text NOT NULL,
                updated_at timestamp with time zone NOT NULL DEFAULT (now()),
                CONSTRAINT pk_telephony_settings PRIMARY KEY (id),
                CONSTRAINT ck_telephony_settings_default_provider CHECK (default_provider IN ('twilio', 'exotel')),
                CONSTRAINT ck_telephony_settings_singleton CHECK (id = 1)
            );

            CREATE TABLE telephony_providers (
                provider text NOT NULL,
                enabled boolean NOT NULL,
                account_id text,
                api_key text,
                auth_token_protected text,
                phone_number text,
                api_base_url text,
                updated_at timestamp with time zone NOT NULL DEFAULT (now()),
                CONSTRAINT pk_telephony_providers PRIMARY KEY (provider),
                CONSTRAINT ck_telephony_providers_provider CHECK (provider IN ('twilio', 'exotel'))
            );

            ALTER TABLE calls
                ADD COLUMN provider text NOT NULL DEFAULT 'twilio',
                ADD CONSTRAINT ck_calls_provider CHECK (provider IN ('twilio', 'exotel', 'browser'));
            ALTER TABLE calls ALTER COLUMN provider DROP DEFAULT;
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE calls DROP COLUMN provider;
            DROP TABLE telephony_providers;
            DROP TABLE telephony_settings;
            """);
}
