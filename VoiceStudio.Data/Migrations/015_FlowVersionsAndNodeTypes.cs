using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Numbered flow versions, every node type of SPEC section 7, global nodes and per-type settings.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000015_FlowVersionsAndNodeTypes")]
public sealed class FlowVersionsAndNodeTypes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE flow_versions (
                id uuid NOT NULL,
                agent_id uuid NOT NULL,
                version integer NOT NULL,
                definition jsonb NOT NULL DEFAULT ('[]'::jsonb),
                note text,
                created_by text,
                created_at timestamp with time zone NOT NULL DEFAULT (now()),
                CONSTRAINT pk_flow_versions PRIMARY KEY (id),
                CONSTRAINT ck_flow_versions_version CHECK (version > 0),
                CONSTRAINT fk_flow_versions_agents_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
            );
            CREATE UNIQUE INDEX ix_flow_versions_agent_id_version ON flow_versions (agent_id, version);

            ALTER TABLE calls
                ADD COLUMN flow_version_id uuid,
                ADD CONSTRAINT fk_calls_flow_versions_flow_version_id FOREIGN KEY (flow_version_id) REFERENCES flow_versions (id) ON DELETE SET NULL;
            CREATE INDEX ix_calls_flow_version_id ON calls (flow_version_id);

            ALTER TABLE flow_nodes
                ADD COLUMN is_global boolean NOT NULL DEFAULT FALSE,
                ADD COLUMN config jsonb NOT NULL DEFAULT ('{}'::jsonb),
                DROP CONSTRAINT ck_flow_nodes_type,
                ADD CONSTRAINT ck_flow_nodes_type CHECK (type IN ('conversation', 'say', 'ask', 'tool', 'condition', 'transfer', 'end'));
            ALTER TABLE flow_nodes ALTER COLUMN is_global DROP DEFAULT;
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DELETE FROM flow_nodes WHERE type NOT IN ('conversation', 'end');
            ALTER TABLE flow_nodes
                DROP COLUMN is_global,
                DROP COLUMN config,
                DROP CONSTRAINT ck_flow_nodes_type,
                ADD CONSTRAINT ck_flow_nodes_type CHECK (type IN ('conversation', 'end'));
            ALTER TABLE calls DROP COLUMN flow_version_id;
            DROP TABLE flow_versions;
            """);
}
