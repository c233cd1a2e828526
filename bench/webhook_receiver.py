#!/usr/bin/env python3
"""A webhook receiver for benchmarks: answers every POST 200, counts the
deliveries and their distinct ids, and when the process WATCH_PID is gone
appends what it received to OUT_FILE. Writes the port it listens on to
PORT_FILE first. Used by bench/refgate_with_webhooks.sh.

    webhook_receiver.py PORT_FILE OUT_FILE WATCH_PID
"""
import http.server
import json
import os
import sys
import threading
import time

port_file, out_file, watch = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {"posts": 0, "ids": set(), "types": {}}


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        seen["posts"] += 1
        seen["ids"].add(body["id"])
        seen["types"][body["type"]] = seen["types"].get(body["type"], 0) + 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
threading.Thread(target=server.serve_forever, daemon=True).start()
start = time.time()
while True:
    try:
        os.kill(watch, 0)
    except ProcessLookupError:
        break
    time.sleep(0.5)
secs = time.time() - start
with open(out_file, "a") as f:
    f.write("webhooks received: %d (%d distinct ids; %s) in %.0fs: %.0f/s\n"
            % (seen["posts"], len(seen["ids"]), ", ".join(
                "%s %d" % kv for kv in sorted(seen["types"].items())), secs,
               seen["posts"] / secs))
