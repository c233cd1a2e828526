#!/usr/bin/env python3
"""Posts durable sale events at a steady rate to a refgate admin listener
until the server goes away, then appends the rate it reached to a file.
Started by bench/refgate_with_events.sh beside compare_nginx.py's refgate.

    bench/events_pacer.py HOST PORT RATE OUT_FILE

Authenticates with compare_nginx.py's admin token; 16 keep-alive
connections, request i sent at start + i/RATE.
"""
import http.client
import json
import sys
import threading
import time

TOKEN = "bench-admin-token-0123456789"  # compare_nginx.py's


def main():
    host, port, rate, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    while True:  # until the server answers
        try:
            c = http.client.HTTPConnection(host, port, timeout=2)
            c.request("GET", "/healthz")
            c.getresponse().read()
            break
        except OSError:
            time.sleep(0.05)
    t0 = time.time()
    lock = threading.Lock()
    state = {"next": 0, "created": 0, "other": 0, "stop": False}

    def worker():
        c = http.client.HTTPConnection(host, port, timeout=5)
        while not state["stop"]:
            with lock:
                i = state["next"]
                state["next"] += 1
            wait = t0 + i / rate - time.time()
            if wait > 0:
                time.sleep(wait)
            body = json.dumps({"event_id": f"bg-{i}", "type": "sale", "order_id": f"o-{i}",
                               "amount_minor": 4990, "customer_id": f"cus_{i % 5000}"})
            try:
                c.request("POST", "/api/v1/events", body,
                          {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                with lock:
                    state["created" if r.status == 201 else "other"] += 1
            except OSError:
                state["stop"] = True  # the server is gone

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.time() - t0
    with open(out, "a") as f:
        f.write(f"events 201: {state['created']} other: {state['other']} in {secs:.1f}s: "
                f"{state['created'] / secs:.0f}/s\n")


if __name__ == "__main__":
    main()
