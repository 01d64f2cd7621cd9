#!/usr/bin/env bash
# Starts everything locally: PostgreSQL 17 and Redis 7 on loopback (data under .local/dev), migrations, seed,
# then the app on http://127.0.0.1:5080. No cloud account, no Docker. Ctrl-C stops the app; the databases keep
# running (scripts/stop.sh stops them).
source "$(dirname "$0")/lib.sh"

PG_PORT="${VS_PG_PORT:-5433}"
REDIS_PORT="${VS_REDIS_PORT:-6380}"

prepare_machine
start_postgres dev "$PG_PORT"
start_redis dev "$REDIS_PORT"

export DATABASE_URL="${DATABASE_URL:-postgresql://voicestudio:voicestudio@127.0.0.1:$PG_PORT/voicestudio}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
export RECORDINGS_DIR="${RECORDINGS_DIR:-$VS_LOCAL/dev/recordings}"
export VAD_MODEL_PATH="${VAD_MODEL_PATH:-$VS_LOCAL/models/silero_vad_v5.onnx}"
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://127.0.0.1:5080}"
export INSTANCE_ID="${INSTANCE_ID:-local}"
# Local development only: the simulated caller posts unsigned webhooks. The app warns at start-up; production keeps the default (true).
export TELEPHONY_VERIFY_REQUESTS="${TELEPHONY_VERIFY_REQUESTS:-false}"

say "building"
dotnet build "$VS_ROOT/VoiceStudio.Web/VoiceStudio.Web.csproj" -c Release -o "$VS_LOCAL/build/web" -v quiet -nologo >"$VS_LOCAL/build.log" 2>&1 \
  || { tail -n 30 "$VS_LOCAL/build.log" >&2; die "the build failed (see $VS_LOCAL/build.log)"; }
app=("dotnet" "$VS_LOCAL/build/web/VoiceStudio.Web.dll")
"${app[@]}" migrate
"${app[@]}" seed
say "starting VoiceStudio on $ASPNETCORE_URLS"
cd "$VS_LOCAL/build/web"
exec "${app[@]}"
