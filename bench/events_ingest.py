#!/usr/bin/env python3
"""Events ingest (SPEC §6): POST /api/v1/events from C concurrent clients
(wrk, one unique event_id per request), every 201 durable. Prints events/s,
latency and how many answers were not 201, then checks that the log holds
exactly one record per 201 (refgate log verify). A benchmark, never a test.

  bench/events_ingest.py --refgate build-release/refgate [--conns 64] [--secs 10]
      [--durability sync|interval|none]
"""
import argparse
import os
import re
import shutil
import subprocess
import tempfile

LUA = r"""
local counter = 0
local thread_id = 0
function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer bench-events-token"
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"event_id":"e%d-%d","type":"sale","order_id":"o%d-%d","amount_minor":4990,' ..
    '"customer_id":"cus_%d"}', tid, counter, tid, counter, counter % 1000)
  return wrk.format(nil, "/api/v1/events", nil, body)
end
local non201 = 0
function response(status, headers, body)
  if status ~= 201 then non201 = non201 + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("requests %d\n", summary.requests))
end
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--refgate", required=True)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--durability", default="sync")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="refgate-events-bench-")
    try:
        cfg = os.path.join(work, "refgate.toml")
        with open(cfg, "w") as f:
            f.write('[clicklog]\ndurability = "%s"\n[rollup]\ninterval_s = 0\n' % args.durability)
        lua = os.path.join(work, "events.lua")
        with open(lua, "w") as f:
            f.write(LUA)
        env = dict(os.environ, REFGATE_ADMIN_TOKEN="bench-admin-token",
                   REFGATE_EVENTS_TOKEN="bench-events-token")
        proc = subprocess.Popen([args.refgate, "serve", "--config", cfg, "--data-dir",
                                 os.path.join(work, "data"), "--listen", "127.0.0.1:0",
                                 "--admin-listen", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        admin = None
        for line in proc.stdout:
            m = re.match(r"admin listening on ([\d.]+:\d+)", line)
            if m:
                admin = m.group(1)
                break
        out = subprocess.run(["wrk", "-t2", "-c%d" % args.conns, "-d%ds" % args.secs, "--latency",
                              "-s", lua, "http://%s/api/v1/events" % admin],
                             capture_output=True, text=True).stdout
        proc.terminate()
        proc.wait(30)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
        lat = {p: re.search(r"\s%s%%\s+([\d.]+\w+)" % p, out).group(1) for p in ("50", "99")}
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        total = re.search(r"(\d+) requests in", out).group(1)
        verify = subprocess.run([args.refgate, "log", "verify", "--data-dir",
                                 os.path.join(work, "data")], capture_output=True, text=True).stdout
        events = re.search(r"(\d+) events", verify).group(1)
        print("durability=%s conns=%d secs=%d: %s events/s, p50 %s, p99 %s, %s requests, "
              "%s not 2xx, %s events in the log" % (args.durability, args.conns, args.secs, rps,
                                                   lat["50"], lat["99"], total,
                                                   non2xx.group(1) if non2xx else 0, events))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
