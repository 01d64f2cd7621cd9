using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Owning instance, usage, test flag and busy status on calls; agent description and webhooks.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000016_CallOwnershipUsageAndWebhooks")]
public sealed class CallOwnershipUsageAndWebhooks : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE calls
                ADD COLUMN owner_instance text,
                ADD COLUMN usage jsonb NOT NULL DEFAULT ('{}'::jsonb),
                ADD COLUMN is_test boolean NOT NULL DEFAULT FALSE,
                DROP CONSTRAINT ck_calls_status,
                ADD CONSTRAINT ck_calls_status CHECK (status IN ('ringing', 'in_progress', 'completed', 'failed', 'no_answer', 'busy'));
            CREATE INDEX ix_calls_owner_instance_status ON calls (owner_instance, status);
            CREATE UNIQUE INDEX ix_calls_provider_provider_call_id ON calls (provider, provider_call_id) WHERE provider_call_id IS NOT NULL;

            ALTER TABLE agents
                ADD COLUMN description text,
                ADD COLUMN webhook_url text,
                ADD COLUMN webhook_events text[] NOT NULL DEFAULT ('{}'::text[]);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents DROP COLUMN description, DROP COLUMN webhook_url, DROP COLUMN webhook_events;
            UPDATE calls SET status = 'failed' WHERE status = 'busy';
            DROP INDEX ix_calls_provider_provider_call_id;
            ALTER TABLE calls
                DROP COLUMN owner_instance,
                DROP COLUMN usage,
                DROP COLUMN is_test,
                DROP CONSTRAINT ck_calls_status,
                ADD CONSTRAINT ck_calls_status CHECK (status IN ('ringing', 'in_progress', 'completed', 'failed', 'no_answer'));
            """);
}
