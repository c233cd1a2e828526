#!/usr/bin/env python3
"""Compaction throughput against DuckDB computing the same tables.

    bench/compaction_vs_duckdb.py [--records 10000000] [--events-percent 1] [--increment 100000]
                                  [--max-memory-mb 1024] [--build build-release]

Generates a click log and the same records as CSV (refgate_loggen), times
`refgate compact` over the log and DuckDB computing every table compact
writes (codes, channels, referrers and, with events, their attribution:
bench/duckdb_rollup.mjs) from the CSV in memory (node + @duckdb/node-api,
installed into the build directory), checks both count the same totals,
and prints records/s and each one's peak RSS. With --increment, then
appends that many new records to the log and times one more (incremental)
run on top of the state the first one built. --max-memory-mb sets
[rollup] max_memory_mb for compact (default: refgate's default).
"""
import argparse
import csv
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, **kw):
    """Runs cmd; returns (seconds, peak RSS in MiB, stdout)."""
    t = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **kw)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, cmd)
    return time.time() - t, usage.ru_maxrss / 1024, out


def refgate_totals(rollups):
    t = {"clicks": 0, "channel_clicks": 0, "referrer_clicks": 0, "attributed": 0}
    for name, column, key in (("codes.csv", "clicks", "clicks"),
                              ("channels.csv", "clicks", "channel_clicks")):
        for path in glob.glob(rollups + "/daily/*/" + name):
            with open(path, newline="") as f:
                t[key] += sum(int(r[column]) for r in csv.DictReader(f))
    with open(rollups + "/referrers.csv", newline="") as f:
        t["referrer_clicks"] = sum(int(r["clicks"]) for r in csv.DictReader(f))
    for path in glob.glob(rollups + "/daily/*/events.csv"):
        with open(path, newline="") as f:
            t["attributed"] += sum(r["status"] == "attributed" for r in csv.DictReader(f))
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--events-percent", type=int, default=0)
    ap.add_argument("--increment", type=int, default=0)
    ap.add_argument("--max-memory-mb", type=int, default=0)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build-release"))
    ap.add_argument("--dir", default=None, help="scratch directory (default: a temp dir)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    node_dir = os.path.join(build, "duckdb-node")
    os.makedirs(node_dir, exist_ok=True)
    shutil.copy(os.path.join(HERE, "..", "tests", "e2e", "duckdb", "package.json"), node_dir)
    shutil.copy(os.path.join(HERE, "duckdb_rollup.mjs"), node_dir)
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "@duckdb", "node-api")):
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=node_dir,
                       check=True)
    work = args.dir or tempfile.mkdtemp(prefix="refgate-compact-bench-")
    try:
        t = time.time()
        subprocess.run([os.path.join(build, "bench", "refgate_loggen"), work, str(args.records),
                        str(args.events_percent)], check=True)
        log_bytes = sum(os.path.getsize(p) for p in glob.glob(work + "/clicks/*.log"))
        print(f"# {args.records} records ({args.events_percent}% events) generated in "
              f"{time.time() - t:.1f}s: log {log_bytes / 2**20:.0f} MiB, "
              f"CSV {os.path.getsize(work + '/clicks.csv') / 2**20:.0f} MiB, cores={os.cpu_count()}")
        subprocess.run(["sync"], check=True)

        compact = [os.path.join(build, "refgate"), "compact", "--data-dir", work]
        if args.max_memory_mb:
            with open(work + "/refgate.toml", "w") as f:
                f.write(f"[rollup]\nmax_memory_mb = {args.max_memory_mb}\n")
            compact += ["--config", work + "/refgate.toml"]
        rg_s, rg_rss, _ = timed(compact)
        rg = refgate_totals(work + "/rollups")
        out_dir = work + "/duckdb-out"
        os.makedirs(out_dir)
        _, duck_rss, out = timed(["node", os.path.join(node_dir, "duckdb_rollup.mjs"), work, out_dir])
        duck = json.loads(out)
        totals = " ".join(f"{k}={rg[k]}" for k in rg)
        print(f"refgate compact : {rg_s:7.2f}s  {args.records / rg_s:12,.0f} records/s  "
              f"peak_rss={rg_rss:.0f}MiB  {totals}")
        totals = " ".join(f"{k}={duck[k]}" for k in rg)
        print(f"duckdb          : {duck['seconds']:7.2f}s  {args.records / duck['seconds']:12,.0f} "
              f"records/s  peak_rss={duck_rss:.0f}MiB  {totals}")
        print(f"ratio duckdb_time/refgate_time={duck['seconds'] / rg_s:.2f} (above 1: refgate faster)")
        if any(int(duck[k]) != rg[k] for k in rg):
            print("MISMATCH: the two counted different totals")
            return 1
        if args.increment:
            inc = work + "/increment"
            subprocess.run([os.path.join(build, "bench", "refgate_loggen"), inc, str(args.increment),
                            str(args.events_percent), str(args.records + 1)], check=True)
            for name in os.listdir(inc + "/clicks"):
                os.rename(f"{inc}/clicks/{name}", f"{work}/clicks/{name}")
            subprocess.run(["sync"], check=True)
            inc_s, inc_rss, _ = timed(compact)
            print(f"incremental     : {inc_s:7.2f}s  {args.increment / inc_s:12,.0f} records/s  "
                  f"peak_rss={inc_rss:.0f}MiB  ({args.increment} new records on the state of "
                  f"{args.records})")
        return 0
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
