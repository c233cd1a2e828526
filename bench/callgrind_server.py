#!/usr/bin/env python3
"""User-space instructions per redirect of the whole server, under callgrind.

  python3 bench/callgrind_server.py --refgate build-release/refgate [--short 8 --long 20]

Runs `refgate serve` (durability none, 1,000 codes) under
`valgrind --tool=callgrind` twice, driving it with `wrk -c16` for --short and
for --long seconds, and prints the instructions per redirect: the difference
in instructions between the two runs over the difference in redirects, which
cancels start-up, loading and shutdown. Instruction counts hold still on a
noisy machine where timings do not. Needs valgrind and wrk.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "callgrind-admin-token-0123456789ab"
CODES = 1000
# The requests of compare_nginx.py: a browser's headers, half with UTM
# parameters, a third with a visitor cookie.
WRK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "../../shared/bench/nginx/random_codes.lua")


def wait_healthy(admin, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(f"http://{admin}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("refgate did not become healthy under valgrind")


def one_run(refgate, work, secs):
    """Returns (instructions, redirects) for one server run of `secs` of load."""
    data = os.path.join(work, f"data-{secs}")
    conf = os.path.join(work, "refgate.toml")
    with open(conf, "w") as f:
        f.write('[redirect]\ndefault_target = "https://shop.example.com/"\n'
                'allowed_hosts = ["shop.example.com"]\n'
                '[clicklog]\ndurability = "none"\n[rollup]\ninterval_s = 0\n')
    out = os.path.join(work, f"cg-{secs}.out")
    listen, admin = "127.0.0.1:18580", "127.0.0.1:18581"
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", refgate, "serve",
         "--config", conf, "--data-dir", data, "--listen", listen, "--admin-listen", admin],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, REFGATE_ADMIN_TOKEN=TOKEN))
    try:
        wait_healthy(admin)
        items = [{"code": f"c{i:05d}", "referrer_id": f"r{i % 50}",
                  "target_url": "https://shop.example.com/welcome",
                  "utm": {"source": "referral", "medium": "link", "campaign": "c1"}}
                 for i in range(CODES)]
        req = urllib.request.Request(
            f"http://{admin}/api/v1/codes/batch", data=json.dumps({"codes": items}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=120).read()
        codes = os.path.join(work, "codes.txt")
        with open(codes, "w") as f:
            f.write("".join(f"c{i:05d}\n" for i in range(CODES)))
        wrk = subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{secs}s", "-s", WRK_SCRIPT, f"http://{listen}/"],
            capture_output=True, text=True, check=True, env=dict(os.environ, CODES=codes)).stdout
        redirects = int(re.search(r"(\d+) requests in", wrk).group(1))
    finally:
        server.send_signal(2)
        server.wait(timeout=300)
    with open(out) as f:
        total = re.search(r"^summary: (\d+)", f.read(), re.M)
    return int(total.group(1)), redirects


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refgate", required=True)
    ap.add_argument("--short", type=int, default=8)
    ap.add_argument("--long", type=int, default=20)
    args = ap.parse_args()
    if not os.path.exists(WRK_SCRIPT):
        sys.exit(f"{WRK_SCRIPT} not found (the shared bench directory beside the project)")
    for tool in ("valgrind", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install {tool}")
    with tempfile.TemporaryDirectory() as work:
        i1, r1 = one_run(os.path.abspath(args.refgate), work, args.short)
        i2, r2 = one_run(os.path.abspath(args.refgate), work, args.long)
    print(f"{args.short}s: {i1:,} instructions, {r1:,} redirects; "
          f"{args.long}s: {i2:,} instructions, {r2:,} redirects")
    if r2 <= r1:
        sys.exit("the long run served no more redirects than the short one")
    print(f"instructions per redirect: {(i2 - i1) / (r2 - r1):,.0f}")


if __name__ == "__main__":
    main()
