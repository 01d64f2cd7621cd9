#!/usr/bin/env bash
# Stops the local PostgreSQL and Redis started by scripts/run.sh (and by scripts/test.sh with "test").
source "$(dirname "$0")/lib.sh"
stop_services "${1:-dev}"
say "stopped the ${1:-dev} services"
