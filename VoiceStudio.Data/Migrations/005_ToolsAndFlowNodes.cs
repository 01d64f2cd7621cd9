using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>HTTP tools, flow nodes, and the tools an agent may call.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000005_ToolsAndFlowNodes")]
public sealed class ToolsAndFlowNodes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            CREATE TABLE tools (
                id uuid NOT NULL,
                name text NOT NULL,
                description text NOT NULL,
                parameters jsonb NOT NULL DEFAULT ('{}'::jsonb),
                webhook_url text NOT NULL,
                method text NOT NULL,
                headers jsonb NOT NULL DEFAULT ('{}'::jsonb),
                timeout_seconds double precision NOT NULL,
                created_at timestamp with time zone NOT NULL DEFAULT (now()),
                updated_at timestamp with time zone NOT NULL DEFAULT (now()),
                CONSTRAINT pk_tools PRIMARY KEY (id),
                CONSTRAINT ck_tools_method CHECK (method IN ('POST', 'GET')),
                CONSTRAINT ck_tools_name CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
                CONSTRAINT ck_tools_timeout_seconds CHECK (timeout_seconds > 0 AND timeout_seconds <= 120)
            );
            CREATE UNIQUE INDEX ix_tools_name ON tools (name);

            CREATE TABLE flow_nodes (
                id uuid NOT NULL,
                agent_id uuid NOT NULL,
                node_key text NOT NULL,
                type text NOT NULL,
                is_initial boolean NOT NULL,
                is_terminal boolean NOT NULL,
                role_messages jsonb NOT NULL DEFAULT ('[]'::jsonb),
                task_messages jsonb NOT NULL DEFAULT ('[]'::jsonb),
                functions jsonb NOT NULL DEFAULT ('[]'::jsonb),
                builtin_tools text[] NOT NULL DEFAULT ('{}'::text[]),
                pre_actions jsonb NOT NULL DEFAULT ('[]'::jsonb),
                post_actions jsonb NOT NULL DEFAULT ('[]'::jsonb),
                allow_interrupt boolean NOT NULL,
                position_x double precision NOT NULL,
                position_y double precision NOT NULL,
                created_at timestamp with time zone NOT NULL DEFAULT (now()),
                updated_at timestamp with time zone NOT NULL DEFAULT (now()),
                CONSTRAINT pk_flow_nodes PRIMARY KEY (id),
                CONSTRAINT ck_flow_nodes_builtin_tools CHECK (builtin_tools <@ ARRAY['end_call', 'transfer_call']::text[]),
                CONSTRAINT ck_flow_nodes_node_key CHECK (node_key ~ '^[A-Za-z0-9_-]{1,64}$'),
                CONSTRAINT ck_flow_nodes_type CHECK (type IN ('conversation', 'end')),
                CONSTRAINT fk_flow_nodes_agents_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
            );
            CREATE UNIQUE INDEX ix_flow_nodes_agent_id_node_key ON flow_nodes (agent_id, node_key);
            CREATE UNIQUE INDEX ix_flow_nodes_one_initial_per_agent ON flow_nodes (agent_id) WHERE is_initial;

            ALTER TABLE agents ADD COLUMN tool_ids uuid[] NOT NULL DEFAULT ('{}'::uuid[]);
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE agents DROP COLUMN tool_ids;
            DROP TABLE flow_nodes;
            DROP TABLE tools;
            """);
}
