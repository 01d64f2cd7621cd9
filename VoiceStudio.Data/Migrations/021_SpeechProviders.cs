using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Cloud speech provider accounts (base URL, encrypted key) for the whole installation.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000021_SpeechProviders")]
public sealed class SpeechProviders : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE speech_providers (
                provider text NOT NULL,
                base_url text,
                api_key_protected text,
                updated_at timestamp with time zone NOT NULL,
                CONSTRAINT pk_speech_providers PRIMARY KEY (provider),
                CONSTRAINT ck_speech_providers_provider CHECK (provider IN ('deepgram', 'openai', 'elevenlabs', 'cartesia'))
            );
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP TABLE speech_providers;");
}
