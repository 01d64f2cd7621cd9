#!/usr/bin/env bash
# Stops the local PostgreSQL and Redis started by scripts/run.sh (and by scripts/test.sh with "test").
source "$(dirname "$0")/lib.sh"
ensure_postgres_binaries
stop_services "$VS_LOCAL/${1:-dev}"
say "stopped the ${1:-dev} services"
