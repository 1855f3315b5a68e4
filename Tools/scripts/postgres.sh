#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, the benchmark and trying the
# mirror: a new cluster in a temporary directory, on 127.0.0.1, run by an
# unprivileged user (the `postgres` user of Debian's package when run as root).
#
#   postgres.sh start DIR [PORT]   prints the URL (user iplog, password in $DIR/password)
#   postgres.sh stop DIR           stops it (the directory is left for the caller to remove)
#   postgres.sh restart DIR        stops it and starts it again on the same port
#
# Needs Debian's postgresql package (`apt-get install postgresql`).
set -euo pipefail
command=${1:?usage: postgres.sh start|stop|restart DIR [PORT]}
dir=${2:?usage: postgres.sh start|stop|restart DIR [PORT]}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$command" in
  start)
    port=${3:-0}
    if [ "$port" = 0 ]; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    fi
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    printf '%s\n' "$password" > "$dir/password"
    printf 'iplog\n' > "$dir/superpassword"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/password" "$dir/superpassword"
    as_owner "$bin/initdb" -D "$dir/data" -U iplog --pwfile="$dir/superpassword" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    printf '%s\n' "$password" | as_owner tee "$dir/superpassword" >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=50" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    # The superuser's password is the generated one (initdb took a placeholder).
    PGPASSWORD=iplog "$bin/psql" -q -h 127.0.0.1 -p "$port" -U iplog -d postgres \
      -c "ALTER USER iplog PASSWORD '$password'" -c "CREATE DATABASE iplog" >/dev/null
    echo "$port" > "$dir/port"
    echo "postgres://iplog@127.0.0.1:$port/iplog?sslmode=disable"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $(cat "$dir/port") -k $dir" start >/dev/null
    ;;
  *)
    echo "usage: postgres.sh start|stop|restart DIR [PORT]" >&2; exit 2 ;;
esac
