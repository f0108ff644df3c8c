#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: a new cluster in a temporary folder, listening on a free port on 127.0.0.1.
#   eval "$(scripts/postgres.sh start DIR)"   prints export ROTO_TEST_POSTGRES=<Npgsql connection string>
#   scripts/postgres.sh stop DIR              stops it and deletes DIR
# Installs Debian's postgresql package when it is missing (as root). PostgreSQL refuses to run as root, so as root
# the cluster belongs to the postgres user that the package creates.
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a folder for the cluster}

bin_of() {
  local found
  found=$(command -v "$1" 2>/dev/null || true)
  [[ -z "$found" ]] && found=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1 || true)
  echo "$found"
}
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    if [[ -z "$(bin_of initdb)" ]]; then
      if [[ $(id -u) -ne 0 ]]; then echo "the tests need PostgreSQL (Debian package postgresql)" >&2; exit 1; fi
      echo "Installing postgresql ..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    fi
    initdb=$(bin_of initdb)
    pg_ctl=$(bin_of pg_ctl)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$initdb" -D "$dir/data" -U roto --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # Enough connections for the cluster tests (four servers, each with its own pool) and fsync off: the data is thrown away.
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2 \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "export ROTO_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=roto;Database=postgres'"
    ;;
  stop)
    pg_ctl=$(bin_of pg_ctl)
    [[ -d "$dir/data" ]] && as_owner "$pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
