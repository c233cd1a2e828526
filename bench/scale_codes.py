#!/usr/bin/env python3
"""Scale: refgate with 100k codes and with 10M, loaded through the batch API.

  python3 bench/scale_codes.py --refgate build-release/refgate [--codes 100000,10000000]

For each size, in a fresh data directory: start `refgate serve`, create the
codes with POST /api/v1/codes/batch (10,000 per request, two loaders at
once), then drive redirects with wrk over codes drawn uniformly at random
from all of them. Prints, per size: load time and rate, RSS after loading,
on-disk size of the code store, redirect requests/s, p50/p99 latency, the
server's CPU time per redirect, RSS after the run, and the read cache's hit
rate. Needs wrk. Writes the table to stdout (markdown).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from procstat import cpu_seconds, rss_mb

TOKEN = "scale-admin-token-0123456789abcdef"
BATCH = 10000

WRK_LUA = """
math.randomseed(os.time())
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
request = function()
  return wrk.format("GET", string.format("/k%%09d?utm_source=scale", math.random(0, %d)))
end
"""


def du_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total / 2**20


def metric(admin, name):
    with urllib.request.urlopen("http://%s:%d/metrics" % admin, timeout=30) as r:
        text = r.read().decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else 0


def load(admin, n, loaders=2):
    def worker(start_batch):
        for b in range(start_batch, (n + BATCH - 1) // BATCH, loaders):
            lo, hi = b * BATCH, min(n, (b + 1) * BATCH)
            body = '{"codes":[' + ",".join(
                '{"code":"k%09d","referrer_id":"r%d","utm":{"source":"referral"}}'
                % (i, i % 100000) for i in range(lo, hi)) + "]}"
            req = urllib.request.Request(
                "http://%s:%d/api/v1/codes/batch" % admin, data=body.encode(), method="POST",
                headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=300) as r:
                body = json.loads(r.read())
            bad = [x for x in body["results"] if "error" in x]
            if bad:
                raise SystemExit("batch %d: %s" % (b, bad[0]))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(loaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_size(args, n):
    d = tempfile.mkdtemp(prefix="refgate-scale-", dir=args.work_dir)
    cfg = os.path.join(d, "refgate.toml")
    with open(cfg, "w") as f:
        f.write('[clicklog]\ndurability = "%s"\n[rollup]\ninterval_s = 0\n' % args.durability)
    proc = subprocess.Popen(
        [args.refgate, "serve", "--config", cfg, "--data-dir", os.path.join(d, "data"),
         "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, REFGATE_ADMIN_TOKEN=TOKEN))
    addrs = {}
    while len(addrs) < 2:
        line = proc.stdout.readline()
        if not line:
            sys.exit("server did not start")
        m = re.match(r"(public|admin) listening on ([\d.]+):(\d+)", line)
        if m:
            addrs[m.group(1)] = (m.group(2), int(m.group(3)))
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    try:
        rss0 = rss_mb(proc.pid)
        t0 = time.time()
        load(addrs["admin"], n)
        load_s = time.time() - t0
        rss_loaded = rss_mb(proc.pid)
        lua = os.path.join(d, "scale.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA % (n - 1))
        url = "http://%s:%d/" % addrs["public"]
        # A short warm-up, then the measured run.
        subprocess.run(["wrk", "-t1", "-c%d" % args.conns, "-d2s", "-s", lua, url],
                       capture_output=True)
        hits0 = metric(addrs["admin"], "refgate_cache_hits_total")
        miss0 = metric(addrs["admin"], "refgate_cache_misses_total")
        c0 = cpu_seconds(proc.pid)
        out = subprocess.run(["wrk", "-t1", "-c%d" % args.conns, "-d%ds" % args.secs, "--latency",
                              "-s", lua, url], capture_output=True, text=True).stdout
        c1 = cpu_seconds(proc.pid)
        hits = metric(addrs["admin"], "refgate_cache_hits_total") - hits0
        misses = metric(addrs["admin"], "refgate_cache_misses_total") - miss0
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

        def lat(p):
            m = re.search(r"^\s+%d%%\s+([\d.]+)(us|ms|s)" % p, out, re.M)
            v, u = float(m.group(1)), m.group(2)
            return v / 1000 if u == "us" else v * 1000 if u == "s" else v

        return {
            "codes": n, "load_s": load_s, "load_rate": n / load_s, "rss_start": rss0,
            "rss_loaded": rss_loaded, "store_mb": du_mb(os.path.join(d, "data", "codes")),
            "rps": rps, "p50": lat(50), "p99": lat(99),
            "cpu_us": (c1 - c0) * 1e6 / max(reqs, 1), "rss_after": rss_mb(proc.pid),
            "hit_rate": hits / max(1, hits + misses), "bad": int(bad.group(1)) if bad else 0,
        }
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(d, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--refgate", default="build-release/refgate")
    p.add_argument("--codes", default="100000,10000000")
    p.add_argument("--secs", type=int, default=10)
    p.add_argument("--conns", type=int, default=64)
    p.add_argument("--durability", default="sync")
    p.add_argument("--work-dir", default=None, help="where the data directories go")
    args = p.parse_args()
    rows = [run_size(args, int(n)) for n in args.codes.split(",")]
    print("| codes | load time | load rate | RSS loaded | code store on disk | redirects/s | "
          "p50 | p99 | CPU/redirect | RSS after | cache hit rate | non-3xx |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| {codes:,} | {load_s:.1f} s | {load_rate:,.0f}/s | {rss_loaded:.0f} MiB | "
              "{store_mb:.0f} MiB | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {cpu_us:.1f} us | "
              "{rss_after:.0f} MiB | {hit:.0%} | {bad} |".format(hit=r["hit_rate"], **r))
    return 1 if any(r["bad"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
