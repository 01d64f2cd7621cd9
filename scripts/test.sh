#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL, Redis, speech packages and Chromium, started once per run
# on their own ports (data under .local/test). Prints "N passed, N failed[, N skipped]" last; exits non-zero on
# any failure. Extra arguments go to `dotnet test` (e.g. --filter Migrations).
source "$(dirname "$0")/lib.sh"

PG_PORT="${VS_TEST_PG_PORT:-5434}"
REDIS_PORT="${VS_TEST_REDIS_PORT:-6381}"

prepare_machine
VS_PG_FSYNC=off start_postgres test "$PG_PORT"
start_redis test "$REDIS_PORT"

export VS_TEST_DATABASE_URL="postgresql://voicestudio:voicestudio@127.0.0.1:$PG_PORT/postgres"
export VS_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export VS_TEST_CHROMIUM="/usr/bin/chromium"
export VS_TEST_VAD_MODEL="$VS_LOCAL/models/silero_vad_v5.onnx"

results="$VS_LOCAL/test/results"
rm -rf "$results"
set +e
dotnet test "$VS_ROOT/VoiceStudio.Tests/VoiceStudio.Tests.csproj" -c Release -nologo \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e

trx="$results/tests.trx"
if [ -f "$trx" ]; then
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  count() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  total="$(count total)"; passed="$(count passed)"; failed="$(count failed)"
  errors="$(count error)"; failed=$((failed + errors))
  skipped=$((total - passed - failed))
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "dotnet test exited with $status without a failed test: the test run was aborted (see above)"
    failed=1
  fi
  line="$passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
  [ "$failed" -gt 0 ] && status=1
  [ "$total" -eq 0 ] && { echo "no test ran"; status=1; }
else
  line="0 passed, 1 failed"
  echo "the test run produced no results (build failure?)"
  status=1
fi
echo "$line"
exit "$status"
