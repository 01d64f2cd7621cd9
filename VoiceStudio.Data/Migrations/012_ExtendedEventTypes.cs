using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace VoiceStudio.Data.Migrations;

/// <summary>Event types for tools, flows, DTMF, latency, recordings and supervisors.</summary>
[DbContext(typeof(VoiceStudioDbContext))]
[Migration("00000000000012_ExtendedEventTypes")]
public sealed class ExtendedEventTypes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            ALTER TABLE call_events DROP CONSTRAINT ck_call_events_type,
                ADD CONSTRAINT ck_call_events_type CHECK (type IN ('call_started', 'call_connected', 'call_disconnected', 'call_completed', 'call_failed', 'user_spoke', 'agent_spoke', 'interruption', 'tool_called', 'tool_result', 'node_entered', 'node_transition', 'dtmf', 'user_idle', 'turn_latency', 'greeting_latency', 'recording_saved', 'recording_deleted', 'warning', 'error', 'transfer', 'supervisor_listen', 'supervisor_whisper', 'supervisor_say', 'supervisor_take_over', 'supervisor_hand_back', 'supervisor_end_call'));
            """);

    protected override void Down(MigrationBuilder migrationBuilder) =>
        migrationBuilder.Sql("""
            DELETE FROM call_events WHERE type NOT IN ('call_started', 'call_connected', 'call_disconnected', 'call_completed', 'call_failed', 'user_spoke', 'agent_spoke', 'interruption');
            ALTER TABLE call_events DROP CONSTRAINT ck_call_events_type,
                ADD CONSTRAINT ck_call_events_type CHECK (type IN ('call_started', 'call_connected', 'call_disconnected', 'call_completed', 'call_failed', 'user_spoke', 'agent_spoke', 'interruption'));
            """);
}
