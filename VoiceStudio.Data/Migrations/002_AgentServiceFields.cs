using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Agent speech-to-text, language model and text-to-speech configuration.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000002_AgentServiceFields")]
public sealed class AgentServiceFields : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents
                ADD COLUMN stt_provider text NOT NULL DEFAULT 'pocketsphinx',
                ADD COLUMN stt_model text,
                ADD COLUMN stt_language text NOT NULL DEFAULT 'en-US',
                ADD COLUMN llm_provider text,
                ADD COLUMN llm_model text,
                ADD COLUMN llm_temperature double precision NOT NULL DEFAULT 0.7,
                ADD COLUMN llm_max_tokens integer NOT NULL DEFAULT 512,
                ADD COLUMN tts_provider text NOT NULL DEFAULT 'flite',
                ADD COLUMN tts_model text,
                ADD COLUMN tts_voice text,
                ADD COLUMN tts_language text NOT NULL DEFAULT 'en-US',
                ADD CONSTRAINT ck_agents_llm_temperature CHECK (llm_temperature >= 0 AND llm_temperature <= 2),
                ADD CONSTRAINT ck_agents_llm_max_tokens CHECK (llm_max_tokens > 0);
            ALTER TABLE agents
                ALTER COLUMN stt_provider DROP DEFAULT,
                ALTER COLUMN stt_language DROP DEFAULT,
                ALTER COLUMN llm_temperature DROP DEFAULT,
                ALTER COLUMN llm_max_tokens DROP DEFAULT,
                ALTER COLUMN tts_provider DROP DEFAULT,
                ALTER COLUMN tts_language DROP DEFAULT;
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents
                DROP COLUMN stt_provider, DROP COLUMN stt_model, DROP COLUMN stt_language,
                DROP COLUMN llm_provider, DROP COLUMN llm_model, DROP COLUMN llm_temperature, DROP COLUMN llm_max_tokens,
                DROP COLUMN tts_provider, DROP COLUMN tts_model, DROP COLUMN tts_voice, DROP COLUMN tts_language;
            """);
}
