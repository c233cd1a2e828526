#!/usr/bin/env bash
# compare_nginx.py's --refgate as a cluster node (SPEC §8) shipping every
# click: starts a one-server `nats-server -js` on a free port (outside the
# process tree compare_nginx.py counts the CPU of: the server's CPU is not
# refgate's), adds [cluster] (replicas 1) to the config it is given, runs
# refgate with it, and stops the server (by PID) when refgate exits.
#   REFGATE_BIN=build-release/refgate \
#     python3 ../shared/bench/compare_nginx.py --refgate bench/refgate_in_cluster.sh
set -u
bin="${REFGATE_BIN:-build-release/refgate}"
tmp=$(mktemp -d)
(nats-server -js -a 127.0.0.1 -p -1 -sd "$tmp/nats" --ports_file_dir "$tmp" -P "$tmp/nats.pid" \
  > "$tmp/nats.log" 2>&1 &)
url=""
for _ in $(seq 1000); do
  url=$(grep -o 'nats://127.0.0.1:[0-9]*' "$tmp"/nats-server_*.ports 2>/dev/null | head -1)
  [ -n "$url" ] && break
  sleep 0.01
done
[ -n "$url" ] || { cat "$tmp/nats.log" >&2; exit 1; }
args=()
prev=""
for a in "$@"; do
  if [ "$prev" = "--config" ]; then
    cp "$a" "$tmp/refgate.toml"
    printf '\n[cluster]\nnats_urls = ["%s"]\nnode_id = "bench"\nreplicas = 1\n' "$url" >> "$tmp/refgate.toml"
    a="$tmp/refgate.toml"
  fi
  args+=("$a")
  prev="$a"
done
"$bin" "${args[@]}" &
rg=$!
trap 'kill -TERM $rg 2>/dev/null' TERM INT
wait $rg
wait $rg
rc=$?
kill -9 "$(cat "$tmp/nats.pid")" 2>/dev/null
rm -rf "$tmp"
exit $rc
