using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>The flow designer's autosaved drafts, one per agent, with a revision for edit conflicts.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000020_FlowDrafts")]
public sealed class FlowDrafts : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE flow_drafts (
                agent_id uuid NOT NULL,
                document jsonb NOT NULL DEFAULT '[]'::jsonb,
                revision integer NOT NULL,
                base_version integer,
                updated_by text,
                updated_at timestamp with time zone NOT NULL,
                CONSTRAINT pk_flow_drafts PRIMARY KEY (agent_id),
                CONSTRAINT ck_flow_drafts_revision CHECK (revision > 0),
                CONSTRAINT fk_flow_drafts_agents_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
            );
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("DROP TABLE flow_drafts;");
}
