#!/usr/bin/env python3
"""Soak run (outside CI): the real server at full load for a long time, with
good and hostile traffic mixed, compaction running beside it.

  python3 bench/soak.py --refgate build-release/refgate --seconds 600

Good traffic: wrk at full speed over 100 codes, plus checking clients that
keep every click id they are redirected with. Bad traffic, all the while:
random bytes, half-sent headers, oversized headers, Transfer-Encoding
smuggling, unknown codes, idle connections and pipelined floods. Every 10 s
the server's RSS is sampled. At the end the server is stopped with SIGTERM,
and the click log is checked: every click id a checking client received is
in it, and it holds at least as many records as wrk counted redirects.

Exit status 0 when no click is lost, `log verify` passes and RSS is flat
(the mean of the last quarter within 10% of the mean of the second).
Needs wrk.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs, urlsplit

from procstat import rss_mb

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"
TOKEN = "soak-admin-token-0123456789abcdef"
CODES = 100

CONFIG = """
[server]
threads = %(threads)d
[redirect]
default_target = "https://example.com/welcome"
[rollup]
interval_s = 10
[admin]
max_auth_failures = 0
"""

WRK_LUA = """
local i = 0
wrk.headers["User-Agent"] = "%s"
request = function()
  i = i + 1
  return wrk.format("GET", "/soak" .. (i %% %d) .. "?utm_source=wrk&utm_medium=load")
end
""" % (BROWSER, CODES)


class Soak:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="refgate-soak-")
        self.data = os.path.join(self.dir, "data")
        self.stop = threading.Event()
        self.received = []        # click ids redirected to the checking clients
        self.bad_sent = {}        # kind -> count
        self.unexpected = []      # answers a client should never get
        self.lock = threading.Lock()

    def start_server(self):
        cfg = os.path.join(self.dir, "refgate.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG % {"threads": self.args.threads})
        env = dict(os.environ, REFGATE_ADMIN_TOKEN=TOKEN)
        self.proc = subprocess.Popen(
            [self.args.refgate, "serve", "--config", cfg, "--data-dir", self.data,
             "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.log_lines = []
        addrs = {}
        while len(addrs) < 2:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit("server exited: " + "".join(self.log_lines))
            self.log_lines.append(line)
            m = re.match(r"(public|admin) listening on ([\d.]+):(\d+)", line)
            if m:
                addrs[m.group(1)] = (m.group(2), int(m.group(3)))
        self.public, self.admin = addrs["public"], addrs["admin"]
        threading.Thread(target=lambda: self.log_lines.extend(self.proc.stdout), daemon=True).start()

    def create_codes(self):
        items = [{"code": "soak%d" % i, "referrer_id": "ref%d" % (i % 10)} for i in range(CODES)]
        c = http.client.HTTPConnection(*self.admin, timeout=30)
        c.request("POST", "/api/v1/codes/batch", body=json.dumps({"codes": items}),
                  headers={"Authorization": "Bearer " + TOKEN,
                           "Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status not in (200, 201, 207):
            sys.exit("batch create failed: %d %s" % (r.status, body[:200]))

    # --- good traffic ----------------------------------------------------
    def checking_client(self):
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(*self.public, timeout=10)
                conn.request("GET", "/soak%d?utm_source=check" % random.randrange(CODES),
                             headers={"User-Agent": BROWSER})
                r = conn.getresponse()
                r.read()
                if r.status != 302:
                    with self.lock:
                        self.unexpected.append("checking client got %d" % r.status)
                    continue
                cid = parse_qs(urlsplit(r.getheader("Location")).query)["rg_click"][0]
                with self.lock:
                    self.received.append(cid)
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.unexpected.append("checking client: %r" % e)
                conn = None
                time.sleep(0.1)

    # --- bad traffic -----------------------------------------------------
    def attack(self, kind):
        try:
            s = socket.create_connection(self.public, timeout=5)
        except OSError:
            return
        try:
            if kind == "random":
                s.sendall(os.urandom(random.choice((100, 10000, 1 << 20))))
            elif kind == "half_header":
                s.sendall(b"GET /soak1 HTTP/1.1\r\nHost: t\r\n")
                time.sleep(random.uniform(0, 2))
            elif kind == "big_header":
                s.sendall(b"GET /soak1 HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
            elif kind == "smuggle":
                s.sendall(b"GET /soak1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                          b"Content-Length: 4\r\n\r\n0\r\n\r\nGET /soak2 HTTP/1.1\r\n\r\n")
            elif kind == "unknown":
                s.sendall(b"GET /nosuch%d HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                          % random.randrange(10 ** 6))
            elif kind == "idle":
                time.sleep(random.uniform(0, 3))
            elif kind == "pipeline":
                s.sendall(b"GET /soak3 HTTP/1.1\r\nHost: t\r\nUser-Agent: x\r\n\r\n" * 500)
            s.settimeout(5)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()
        with self.lock:
            self.bad_sent[kind] = self.bad_sent.get(kind, 0) + 1

    def attacker(self):
        kinds = ["random", "half_header", "big_header", "smuggle", "unknown", "idle", "pipeline"]
        while not self.stop.is_set():
            self.attack(random.choice(kinds))

    # --- the run ---------------------------------------------------------
    def run(self):
        self.start_server()
        self.create_codes()
        lua = os.path.join(self.dir, "soak.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)
        workers = [threading.Thread(target=self.checking_client) for _ in range(2)]
        workers += [threading.Thread(target=self.attacker) for _ in range(4)]
        for t in workers:
            t.start()
        wrk = subprocess.Popen(
            ["wrk", "-t1", "-c%d" % self.args.connections, "-d%ds" % self.args.seconds,
             "-s", lua, "http://%s:%d/" % self.public],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        samples = []
        t0 = time.time()
        while wrk.poll() is None:
            samples.append((round(time.time() - t0), rss_mb(self.proc.pid)))
            print("t=%4ds rss=%.1f MiB" % samples[-1], flush=True)
            time.sleep(10)
        wrk_out = wrk.stdout.read()
        self.stop.set()
        for t in workers:
            t.join()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        return self.report(samples, wrk_out, rc)

    def report(self, samples, wrk_out, rc):
        print(wrk_out)
        m = re.search(r"(\d+) requests in", wrk_out)
        wrk_total = int(m.group(1)) if m else 0
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk_out)
        wrk_bad = int(m.group(1)) if m else 0
        verify = subprocess.run([self.args.refgate, "log", "verify", "--data-dir", self.data],
                                capture_output=True, text=True)
        # Streamed: the log holds millions of records; keep only what is checked.
        wanted = set(self.received)
        logged, wrk_logged = set(), 0
        dump = subprocess.Popen([self.args.refgate, "log", "dump", "--data-dir", self.data],
                                stdout=subprocess.PIPE, text=True)
        for line in dump.stdout:
            if '"utm_source":"wrk"' in line:
                wrk_logged += 1
                continue
            m = re.search(r'"click_id":"([^"]*)"', line)
            if m and m.group(1) in wanted:
                logged.add(m.group(1))
        dump.wait()
        lost = [c for c in self.received if c not in logged]
        rss = [r for _, r in samples]
        q = max(1, len(rss) // 4)
        second, last = rss[q:2 * q] or rss, rss[-q:]
        growth = (sum(last) / len(last)) / (sum(second) / len(second)) - 1
        ok = (rc == 0 and not lost and verify.returncode == 0 and abs(growth) <= 0.10
              and wrk_logged >= wrk_total - wrk_bad and wrk_bad == 0)
        print("server exit status on SIGTERM: %d" % rc)
        print("wrk: %d responses, %d not 2xx/3xx; click records from wrk traffic: %d"
              % (wrk_total, wrk_bad, wrk_logged))
        print("checking clients: %d click ids received, %d missing from the log"
              % (len(self.received), len(lost)))
        print("hostile connections: %s" % json.dumps(self.bad_sent, sort_keys=True))
        print("unexpected answers to good clients: %d %s"
              % (len(self.unexpected), self.unexpected[:5]))
        print("log verify: exit %d %s" % (verify.returncode, verify.stdout.strip()[-200:]))
        print("RSS MiB: first %.1f, max %.1f, last %.1f; last quarter vs second quarter %+.1f%%"
              % (rss[0], max(rss), rss[-1], growth * 100))
        print("SOAK %s" % ("PASSED" if ok else "FAILED"))
        if ok and not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("data kept in", self.dir)
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--refgate", default="build-release/refgate")
    p.add_argument("--seconds", type=int, default=600)
    p.add_argument("--threads", type=int, default=2, help="server I/O threads")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--keep", action="store_true", help="keep the data directory")
    sys.exit(Soak(p.parse_args()).run())


if __name__ == "__main__":
    main()
