using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Event types for the language model: llm_response (timing, tokens, calls) and llm_error.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000017_LlmEventTypes")]
public sealed class LlmEventTypes : Migration
{
    private const string Before = "'call_started', 'call_connected', 'call_disconnected', 'call_completed', 'call_failed', 'user_spoke', 'agent_spoke', "
        + "'interruption', 'tool_called', 'tool_result', 'node_entered', 'node_transition', 'dtmf', 'user_idle', 'turn_latency', 'greeting_latency', "
        + "'recording_saved', 'recording_deleted', 'warning', 'error', 'transfer', ";
    private const string Supervisor = "'supervisor_listen', 'supervisor_whisper', 'supervisor_say', 'supervisor_take_over', 'supervisor_hand_back', 'supervisor_end_call'";

    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql($"""
            ALTER TABLE call_events
                DROP CONSTRAINT ck_call_events_type,
                ADD CONSTRAINT ck_call_events_type CHECK (type IN ({Before}'llm_response', 'llm_error', {Supervisor}));
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql($"""
            DELETE FROM call_events WHERE type IN ('llm_response', 'llm_error');
            ALTER TABLE call_events
                DROP CONSTRAINT ck_call_events_type,
                ADD CONSTRAINT ck_call_events_type CHECK (type IN ({Before}{Supervisor}));
            """);
}
