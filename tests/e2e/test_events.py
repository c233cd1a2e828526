"""The events API (SPEC §6) through the real binary: exactly once, durable
before answered, across kill -9, and every field's bad input refused."""
import json
import os
import signal
import subprocess
import threading
import unittest

from harness import BIN, DEFAULT_CONFIG, Server

EVENTS_TOKEN = "e2e-events-token-fedcba9876543210"


def sale(event_id="ord_1-paid", amount=4990, **extra):
    body = {"event_id": event_id, "type": "sale", "order_id": "ord_1",
            "amount_minor": amount, "currency": "EUR", "customer_id": "cus_7"}
    body.update(extra)
    return body


def logged_events(data_dir):
    r = subprocess.run([BIN, "log", "dump", "--data-dir", data_dir], capture_output=True,
                       text=True, timeout=60)
    return [o for o in map(json.loads, r.stdout.splitlines()) if o["type"] == "event"]


class EventsApi(unittest.TestCase):
    def start(self, config=DEFAULT_CONFIG, data_dir=None):
        srv = Server(config=config, env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN},
                     data_dir=data_dir)
        self.addCleanup(srv.cleanup)
        return srv

    def post(self, srv, body, token=EVENTS_TOKEN):
        return srv.api("POST", "/api/v1/events", body, token=token)

    def test_a_sale_is_recorded_once_and_its_retry_is_a_replay(self):
        srv = self.start()
        status, _, body = self.post(srv, sale())
        self.assertEqual((status, body), (201, {"event_id": "ord_1-paid", "status": "recorded",
                                                "replayed": False}))
        status, _, body = self.post(srv, sale())
        self.assertEqual((status, body["replayed"]), (201, True))
        # Key order and whitespace are not the body: the same event.
        raw = json.dumps(dict(reversed(list(sale().items())))).encode()
        status, _, body = srv.api("POST", "/api/v1/events", raw_body=raw, token=EVENTS_TOKEN)
        self.assertEqual((status, body["replayed"]), (201, True))
        status, _, got = srv.api("GET", "/api/v1/events/ord_1-paid", token=EVENTS_TOKEN)
        self.assertEqual(status, 200)
        self.assertEqual((got["type"], got["amount_minor"], got["customer_id"], got["status"]),
                         ("sale", 4990, "cus_7", "pending"))
        srv.stop()
        self.assertEqual([e["event_id"] for e in logged_events(srv.data_dir)], ["ord_1-paid"])

    def test_the_same_id_with_another_body_is_409(self):
        srv = self.start()
        self.assertEqual(self.post(srv, sale())[0], 201)
        status, _, body = self.post(srv, sale(amount=4991))
        self.assertEqual((status, body["error"]["type"], body["error"]["field"]),
                         (409, "conflict", "event_id"))

    def test_the_events_token_posts_and_reads_events_and_nothing_else(self):
        srv = self.start()
        self.assertEqual(self.post(srv, sale(), token=srv.token)[0], 201)  # the admin token too
        self.assertEqual(srv.api("GET", "/api/v1/codes", token=EVENTS_TOKEN)[0], 403)
        self.assertEqual(srv.api("POST", "/api/v1/codes", {"referrer_id": "r1"},
                                 token=EVENTS_TOKEN)[0], 403)
        self.assertEqual(self.post(srv, sale("e2"), token="wrong")[0], 401)
        self.assertEqual(srv.api("GET", "/api/v1/events/nope", token=EVENTS_TOKEN)[0], 404)
        self.assertEqual(srv.api("DELETE", "/api/v1/events/ord_1-paid",
                                 token=EVENTS_TOKEN)[0], 405)

    def test_bad_input_on_every_field_is_400_naming_it_and_records_nothing(self):
        srv = self.start()
        cases = [
            ({"type": "sale"}, "event_id"),
            (sale(event_id="a b"), "event_id"),
            (sale(event_id="x" * 129), "event_id"),
            (sale(type="purchase"), "type"),
            (sale(amount=0), "amount_minor"),
            (sale(amount=-1), "amount_minor"),
            (sale(amount=49.9), "amount_minor"),
            (sale(amount="4990"), "amount_minor"),
            (sale(currency="USD"), "currency"),
            (sale(occurred_at="yesterday"), "occurred_at"),
            (sale(customer_id=""), "customer_id"),
            (sale(click_id="c" * 65), "click_id"),
            (sale(visitor_id="short"), "visitor_id"),
            (sale(code="x"), "code"),
            (sale(order_id="o o"), "order_id"),
            (sale(metadata={"k": 1}), "metadata"),
            (sale(metadata={"k%d" % i: "v" for i in range(21)}), "metadata"),
            (sale(surprise=True), "surprise"),
            ({"event_id": "l1", "type": "lead", "amount_minor": 5}, "amount_minor"),
            ({"event_id": "r1", "type": "refund", "amount_minor": 5}, "order_id"),
        ]
        for body, field in cases:
            status, _, err = self.post(srv, body)
            self.assertEqual((status, err["error"]["field"]), (400, field), body)
        status, _, err = srv.api("POST", "/api/v1/events", raw_body=b"{not json",
                                 token=EVENTS_TOKEN)
        self.assertEqual(status, 400)
        status, _, _ = srv.api("POST", "/api/v1/events", raw_body=b"{}", token=EVENTS_TOKEN,
                               headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 415)
        srv.stop()
        self.assertEqual(logged_events(srv.data_dir), [])

    def test_concurrent_posts_of_one_id_give_one_record(self):
        srv = self.start()
        results = []
        lock = threading.Lock()

        def post():
            status, _, body = self.post(srv, sale("dup"))
            with lock:
                results.append((status, body.get("replayed")))
        threads = [threading.Thread(target=post) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [(201, False)] + [(201, True)] * 15)
        srv.stop()
        self.assertEqual(len(logged_events(srv.data_dir)), 1)

    def test_a_201_survives_kill_9_in_every_durability_mode(self):
        for mode in ("sync", "interval", "none"):
            with self.subTest(mode=mode):
                config = DEFAULT_CONFIG + '\n[clicklog]\ndurability = "%s"\n' % mode
                srv = self.start(config)
                self.assertEqual(self.post(srv, sale("k9-" + mode))[0], 201)
                srv.stop(signal.SIGKILL)
                again = self.start(config, data_dir=srv.data_dir)
                status, _, body = self.post(again, sale("k9-" + mode))
                self.assertEqual((status, body["replayed"]), (201, True))
                self.assertEqual(self.post(again, sale("k9-" + mode, amount=1))[0], 409)
                again.stop()
                self.assertEqual([e["event_id"] for e in logged_events(srv.data_dir)],
                                 ["k9-" + mode])

    def test_compaction_reads_past_events_and_keeps_counting_clicks(self):
        srv = self.start()
        code = srv.create(referrer_id="r1")["code"]
        self.assertEqual(srv.get("/" + code)[0], 302)
        self.assertEqual(self.post(srv, sale())[0], 201)
        self.assertEqual(srv.get("/" + code)[0], 302)
        srv.stop()
        r = subprocess.run([BIN, "compact", "--data-dir", srv.data_dir], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 records rolled up, through seq 4", r.stdout)  # after the code change
        r = subprocess.run([BIN, "log", "verify", "--data-dir", srv.data_dir],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("(2 clicks, 1 events, 1 code changes,", r.stdout)


if __name__ == "__main__":
    unittest.main()
