#!/usr/bin/env python3
"""Compaction throughput against DuckDB's GROUP BY over the same clicks as CSV.

    bench/compaction_vs_duckdb.py [--records 10000000] [--build build-release]

Generates a click log and the same clicks as CSV (refgate_loggen), times
`refgate compact` over the log and DuckDB computing the same per-code daily
aggregates from the CSV (node + @duckdb/node-api, installed into the build
directory), checks both count the same clicks, and prints records/s.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000_000)
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
        subprocess.run([os.path.join(build, "bench", "refgate_loggen"), work, str(args.records)],
                       check=True)
        log_bytes = sum(os.path.getsize(p) for p in glob.glob(work + "/clicks/*.log"))
        print(f"# {args.records} clicks generated in {time.time() - t:.1f}s: log "
              f"{log_bytes / 2**20:.0f} MiB, CSV {os.path.getsize(work + '/clicks.csv') / 2**20:.0f} MiB, "
              f"cores={os.cpu_count()}")
        subprocess.run(["sync"], check=True)

        t = time.time()
        subprocess.run([os.path.join(build, "refgate"), "compact", "--data-dir", work], check=True,
                       stdout=subprocess.DEVNULL)
        rg_s = time.time() - t
        rg_clicks = 0
        for path in glob.glob(work + "/rollups/daily/*/codes.csv"):
            with open(path, newline="") as f:
                rg_clicks += sum(int(r["clicks"]) for r in csv.DictReader(f))

        out = subprocess.run(["node", os.path.join(node_dir, "duckdb_rollup.mjs"),
                              work + "/clicks.csv", work + "/duckdb_codes.csv"],
                             check=True, capture_output=True, text=True).stdout
        duck = json.loads(out)
        print(f"refgate compact : {rg_s:7.2f}s  {args.records / rg_s:12,.0f} records/s  clicks={rg_clicks}")
        print(f"duckdb group by : {duck['seconds']:7.2f}s  {args.records / duck['seconds']:12,.0f} records/s  "
              f"clicks={duck['clicks']}")
        print(f"ratio duckdb_time/refgate_time={duck['seconds'] / rg_s:.2f} (above 1: refgate faster)")
        if int(duck["clicks"]) != rg_clicks:
            print("MISMATCH: the two counted different clicks")
            return 1
        return 0
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
