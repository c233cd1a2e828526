"""Signed webhooks of SPEC §7 against a local receiver: the real binary,
`refgate compact` deciding, and the receiver checking every signature with
Python's hmac, independently of refgate."""
import hashlib
import hmac
import http.server
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN, DEFAULT_CONFIG, Server, metric

EVENTS_TOKEN = "e2e-events-token-fedcba9876543210"
SECRETS = ["whsec_new_0123456789", "whsec_old_9876543210"]


class Receiver:
    """An HTTP endpoint on loopback that keeps what it is sent. `answer`
    decides each status from the parsed body (default 200)."""

    def __init__(self, tls_cert=None):
        self.lock = threading.Condition()
        self.received = []  # (status answered, headers, body bytes)
        self.answer = lambda body: 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.answer(json.loads(body))
                with outer.lock:
                    outer.received.append((status, dict(self.headers), body))
                    outer.lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls_cert)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def delivered(self):
        with self.lock:
            return [json.loads(b) for s, _, b in self.received if 200 <= s < 300]

    def wait(self, condition, timeout=60):
        end = time.time() + timeout
        with self.lock:
            while not condition():
                left = end - time.time()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def config(port, extra=""):
    return DEFAULT_CONFIG + f"""
[rewards]
sale_percent = 10.0
hold_days = 0
[webhooks]
url = "http://127.0.0.1:{port}/hooks/refgate"
timeout_ms = 2000
{extra}"""


def compact(srv):
    r = subprocess.run([BIN, "compact", "--config", srv.config_path, "--data-dir", srv.data_dir],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def wait_metric(srv, name, want, timeout=30):
    """The metric once it reaches `want` (refgate counts a delivery when it
    has read the answer, just after the receiver kept it)."""
    end = time.time() + timeout
    while metric(srv, name) < want and time.time() < end:
        time.sleep(0.05)
    return metric(srv, name)


def verify(headers, body, secrets):
    """Checks Refgate-Signature as a receiver would; returns the v1 values."""
    parts = [p.split("=", 1) for p in headers["Refgate-Signature"].split(",")]
    t = [v for k, v in parts if k == "t"]
    v1 = [v for k, v in parts if k == "v1"]
    assert len(t) == 1 and abs(int(t[0]) - time.time()) < 600, headers
    signed = t[0].encode() + b"." + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return v1, expected


class Webhooks(unittest.TestCase):
    def setUp(self):
        self.rx = Receiver()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        self.rx.close()

    def start(self, extra="", secrets=SECRETS, data_dir=None):
        srv = Server(config=config(self.rx.port, extra), data_dir=data_dir,
                     env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN,
                          "REFGATE_WEBHOOK_SECRET": ",".join(secrets)})
        self.servers.append(srv)
        return srv

    def sale(self, srv, event_id, code, amount=1000, customer=None):
        body = {"event_id": event_id, "type": "sale", "order_id": "o-" + event_id,
                "amount_minor": amount, "code": code}
        if customer:
            body["customer_id"] = customer
        status, _, reply = srv.api("POST", "/api/v1/events", body, token=EVENTS_TOKEN)
        self.assertEqual(status, 201, reply)

    def program(self, srv):
        srv.create(code="al_code", referrer_id="alice")
        srv.create(code="bo_code", referrer_id="bob")
        for i in range(3):
            self.sale(srv, f"al-{i}", "al_code", amount=1000 * (i + 1))
        self.sale(srv, "bo-0", "bo_code")
        self.sale(srv, "bo-self", "bo_code", customer="bob")  # held: self-referral
        compact(srv)

    def test_signed_with_each_secret_and_in_order_per_referrer(self):
        srv = self.start()
        self.program(srv)
        # alice: 3 attributed + 3 payable; bob: 1 attributed + 1 payable + 1 held.
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 9), self.rx.received)
        for status, headers, body in self.rx.received:
            v1, expected = verify(headers, body, SECRETS)
            self.assertEqual(v1, expected, "one v1 per secret, in the order configured")
            self.assertEqual(headers["Content-Type"], "application/json")
        got = self.rx.delivered()
        self.assertEqual(len({b["id"] for b in got}), 9, "no id delivered twice")
        alice = [(b["type"], b["data"]["event_id"]) for b in got
                 if b["data"]["referrer_id"] == "alice"]
        self.assertEqual(alice, [("event.attributed", "al-0"), ("event.attributed", "al-1"),
                                 ("event.attributed", "al-2"), ("reward.payable", "al-0"),
                                 ("reward.payable", "al-1"), ("reward.payable", "al-2")])
        by_event = {(b["type"], b["data"]["event_id"]): b for b in got}
        held = by_event[("event.held", "bo-self")]
        self.assertEqual(held["data"]["reason"], "self_referral")
        self.assertEqual(held["data"]["reward_minor"], 0)
        paid = by_event[("reward.payable", "al-2")]["data"]
        self.assertEqual((paid["amount_minor"], paid["currency"]), (300, "EUR"))
        att = by_event[("event.attributed", "al-1")]
        self.assertEqual(set(att), {"id", "type", "created_at", "data"})
        self.assertEqual((att["data"]["method"], att["data"]["code"], att["data"]["reward_minor"]),
                         ("code", "al_code", 200))
        self.assertEqual(wait_metric(srv, "refgate_webhooks_delivered_total", 9), 9)
        self.assertEqual(metric(srv, "refgate_webhooks_failed_total"), 0)
        # A second run with nothing new announces nothing again.
        compact(srv)
        self.sale(srv, "bo-1", "bo_code")
        compact(srv)
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 11))
        self.assertEqual([(b["type"], b["data"]["event_id"]) for b in self.rx.delivered()[9:]],
                         [("event.attributed", "bo-1"), ("reward.payable", "bo-1")])
        # bob's new ones came after everything before them was done: a
        # duplicate of an earlier one would be in the list by now.
        ids = [b["id"] for b in self.rx.delivered()]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(wait_metric(srv, "refgate_webhooks_delivered_total", 11), 11)

    def test_500s_are_retried_and_hold_back_only_that_referrers_later_webhooks(self):
        srv = self.start()
        alice_ok = threading.Event()
        self.rx.answer = lambda b: 200 if b["data"]["referrer_id"] != "alice" or \
            alice_ok.is_set() else 500
        self.program(srv)
        # bob's three arrive while alice's first keeps failing.
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 3))
        self.assertTrue(self.rx.wait(lambda: sum(1 for s, _, _ in self.rx.received
                                                 if s == 500) >= 2))
        failed = [json.loads(b) for s, _, b in self.rx.received if s == 500]
        self.assertEqual({(b["type"], b["data"]["event_id"]) for b in failed},
                         {("event.attributed", "al-0")}, "only alice's first is attempted")
        self.assertGreaterEqual(metric(srv, "refgate_webhooks_retried_total"), 1)
        self.assertGreaterEqual(wait_metric(srv, "refgate_webhooks_failed_total", 2), 2)
        alice_ok.set()
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 9, timeout=90))
        alice = [(b["type"], b["data"]["event_id"]) for b in self.rx.delivered()
                 if b["data"]["referrer_id"] == "alice"]
        self.assertEqual(alice[0], ("event.attributed", "al-0"))
        self.assertEqual(len(alice), 6)
        end = time.time() + 30  # nothing owed any more: the gauge is back to 0
        while metric(srv, "refgate_webhooks_oldest_undelivered_seconds") != 0 and \
                time.time() < end:
            time.sleep(0.05)
        self.assertEqual(metric(srv, "refgate_webhooks_oldest_undelivered_seconds"), 0)
        # The failed attempts carried the id the delivery did.
        self.assertEqual({b["id"] for b in failed},
                         {b["id"] for b in self.rx.delivered()
                          if b["data"]["event_id"] == "al-0" and b["type"] == "event.attributed"})

    def test_what_is_owed_is_delivered_after_a_restart_and_nothing_twice(self):
        srv = self.start()
        self.rx.answer = lambda b: 503
        self.program(srv)
        self.assertTrue(self.rx.wait(lambda: len(self.rx.received) >= 2))
        data_dir = srv.data_dir
        srv.stop()
        attempted = {json.loads(b)["id"] for _, _, b in self.rx.received}
        self.rx.answer = lambda b: 200
        again = self.start(data_dir=data_dir)
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 9))
        delivered = [b["id"] for b in self.rx.delivered()]
        self.assertEqual(len(set(delivered)), 9)
        self.assertTrue(attempted <= set(delivered), "the same ids after the restart")
        # A third start delivers nothing more.
        again.stop()
        self.start(data_dir=data_dir)
        self.sale(self.servers[-1], "al-9", "al_code")
        compact(self.servers[-1])
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 11))
        self.assertEqual(len({b["id"] for b in self.rx.delivered()}), 11)

    def test_a_single_secret_and_an_events_filter(self):
        srv = self.start(extra='events = ["event.held"]', secrets=["only_one_secret"])
        self.program(srv)
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 1))
        [(status, headers, body)] = self.rx.received
        v1, expected = verify(headers, body, ["only_one_secret"])
        self.assertEqual(v1, expected)
        self.assertEqual(json.loads(body)["type"], "event.held")
        # A later decision of a listed type still comes, after the skipped ones.
        self.sale(srv, "al-self", "al_code", customer="alice")
        compact(srv)
        self.assertTrue(self.rx.wait(lambda: len(self.rx.delivered()) == 2))
        self.assertEqual(self.rx.delivered()[1]["data"]["event_id"], "al-self")


class Https(unittest.TestCase):
    """HTTPS: the certificate is checked against the CA store OpenSSL uses
    (SSL_CERT_FILE names it here) and against the URL's host."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="refgate-tls-")
        cls.cert, cls.key = os.path.join(cls.dir, "cert.pem"), os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, capture_output=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_program(self, env, host="127.0.0.1"):
        rx = Receiver(tls_cert=(self.cert, self.key))
        self.addCleanup(rx.close)
        toml = DEFAULT_CONFIG + f"""
[rewards]
hold_days = 0
[webhooks]
url = "https://{host}:{rx.port}/hook"
timeout_ms = 2000
"""
        srv = Server(config=toml, env=dict({"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN,
                                            "REFGATE_WEBHOOK_SECRET": "tls_secret"}, **env))
        self.addCleanup(srv.cleanup)
        srv.create(code="al_code", referrer_id="alice")
        status, _, _ = srv.api("POST", "/api/v1/events",
                               {"event_id": "s1", "type": "sale", "order_id": "o1",
                                "amount_minor": 1000, "code": "al_code"}, token=EVENTS_TOKEN)
        self.assertEqual(status, 201)
        compact(srv)
        return rx, srv

    def test_a_certificate_the_store_trusts_is_delivered_to(self):
        rx, srv = self.run_program({"SSL_CERT_FILE": self.cert})
        self.assertTrue(rx.wait(lambda: len(rx.delivered()) == 2))
        v1, expected = verify(rx.received[0][1], rx.received[0][2], ["tls_secret"])
        self.assertEqual(v1, expected)

    def test_an_untrusted_certificate_or_another_host_is_never_sent_a_body(self):
        # Not in the store (a CA file without it), then trusted but for
        # another name (localhost is not in the certificate).
        other = os.path.join(self.dir, "empty.pem")
        open(other, "w").close()
        for env, host in (({"SSL_CERT_FILE": other}, "127.0.0.1"),
                          ({"SSL_CERT_FILE": self.cert}, "localhost")):
            rx, srv = self.run_program(env, host)
            self.assertGreaterEqual(wait_metric(srv, "refgate_webhooks_failed_total", 1), 1, host)
            self.assertEqual(rx.received, [], host)
            self.assertEqual(metric(srv, "refgate_webhooks_delivered_total"), 0)


class WebhookConfig(unittest.TestCase):
    def refused(self, toml, env=None):
        d = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"refgate-wh-{os.getpid()}")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "refgate.toml")
        with open(path, "w") as f:
            f.write(DEFAULT_CONFIG + toml)
        e = dict(os.environ, REFGATE_ADMIN_TOKEN="x" * 32)
        e.pop("REFGATE_WEBHOOK_SECRET", None)
        e.update(env or {})
        r = subprocess.run([BIN, "serve", "--config", path, "--data-dir", d + "/data",
                            "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30, env=e)
        return r.returncode, r.stdout + r.stderr

    def test_plain_http_only_to_loopback_and_a_secret_required(self):
        code, out = self.refused('[webhooks]\nurl = "http://example.com/hook"\nsecret = "s"\n')
        self.assertNotEqual(code, 0)
        self.assertIn("webhooks.url", out)
        code, out = self.refused('[webhooks]\nurl = "https://example.com/hook"\n')
        self.assertNotEqual(code, 0)
        self.assertIn("REFGATE_WEBHOOK_SECRET", out)
        code, out = self.refused('[webhooks]\nevents = ["event.paid"]\n')
        self.assertNotEqual(code, 0)
        self.assertIn("webhooks.events", out)


if __name__ == "__main__":
    unittest.main()
