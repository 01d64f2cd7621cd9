using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Phone numbers with their inbound and outbound agents.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000014_PhoneNumbers")]
public sealed class PhoneNumbers : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE phone_numbers (
                id uuid NOT NULL,
                number text NOT NULL,
                provider text NOT NULL,
                label text,
                inbound_agent_id uuid,
                outbound_agent_id uuid,
                created_at timestamp with time zone NOT NULL DEFAULT (now()),
                updated_at timestamp with time zone NOT NULL DEFAULT (now()),
                CONSTRAINT pk_phone_numbers PRIMARY KEY (id),
                CONSTRAINT ck_phone_numbers_number CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
                CONSTRAINT ck_phone_numbers_provider CHECK (provider IN ('twilio', 'exotel', 'vobiz')),
                CONSTRAINT fk_phone_numbers_agents_inbound_agent_id FOREIGN KEY (inbound_agent_id) REFERENCES agents (id) ON DELETE SET NULL,
                CONSTRAINT fk_phone_numbers_agents_outbound_agent_id FOREIGN KEY (outbound_agent_id) REFERENCES agents (id) ON DELETE SET NULL
            );
            CREATE UNIQUE INDEX ix_phone_numbers_number ON phone_numbers (number);
            CREATE INDEX ix_phone_numbers_inbound_agent_id ON phone_numbers (inbound_agent_id);
            CREATE INDEX ix_phone_numbers_outbound_agent_id ON phone_numbers (outbound_agent_id);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DROP TABLE phone_numbers;
            """);
}
