"""The admin API of SPEC §3, driven over loopback against the real binary."""
import json
import re
import unittest

from harness import Server


class AdminApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def assertError(self, resp, status, field=None, type_=None):
        code, headers, body = resp
        self.assertEqual(code, status, body)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertIn("error", body)
        self.assertIsInstance(body["error"]["message"], str)
        if field is not None:
            self.assertEqual(body["error"]["field"], field, body)
        if type_ is not None:
            self.assertEqual(body["error"]["type"], type_, body)

    # --- auth and framing ---------------------------------------------------
    def test_every_api_route_needs_the_token(self):
        for method, path in [("POST", "/api/v1/codes"), ("GET", "/api/v1/codes"),
                             ("GET", "/api/v1/codes/abc"), ("PATCH", "/api/v1/codes/abc"),
                             ("DELETE", "/api/v1/codes/abc"), ("POST", "/api/v1/codes/batch"),
                             ("GET", "/api/v1/referrers/r/stats")]:
            for token in ("", "wrong", self.srv.token + "x", self.srv.token[:-1]):
                resp = self.srv.api(method, path, {} if method in ("POST", "PATCH") else None,
                                    token=token)
                self.assertError(resp, 401, type_="unauthorized")
                self.assertEqual(resp[1].get("www-authenticate"), "Bearer")

    def test_json_content_type_is_required(self):
        resp = self.srv.api("POST", "/api/v1/codes", raw_body=b'{"referrer_id":"r"}',
                            headers={"Content-Type": "text/plain"})
        self.assertError(resp, 415)
        resp = self.srv.api("POST", "/api/v1/codes", raw_body=b'{"referrer_id":"r1"}',
                            headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(resp[0], 201, resp)

    def test_body_over_one_mib_is_413(self):
        big = b'{"referrer_id": "r", "campaign": "' + b"x" * (1 << 20) + b'"}'
        self.assertError(self.srv.api("POST", "/api/v1/codes", raw_body=big), 413)
        # The listener still works afterwards.
        self.assertEqual(self.srv.api("GET", "/healthz")[0], 200)

    def test_malformed_json_is_400(self):
        for raw in (b"{", b"[]", b'"x"', b'{"referrer_id": "r",}', b"\xff\xfe"):
            self.assertError(self.srv.api("POST", "/api/v1/codes", raw_body=raw), 400,
                             type_="invalid_json")

    # --- create -------------------------------------------------------------
    def test_create_with_generated_code(self):
        code = self.srv.create(referrer_id="cust_gen")
        self.assertRegex(code["code"], r"^[A-Za-z0-9]{7}$")
        self.assertEqual(code["short_url"],
                         "http://%s:%d/%s" % (*self.srv.public, code["code"]))
        self.assertEqual(code["target_url"], "https://example.com/welcome")
        self.assertEqual(code["status"], "active")
        self.assertEqual(code["redirect_status"], 302)
        self.assertIsNone(code["expires_at"])
        self.assertRegex(code["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_create_with_every_field(self):
        code = self.srv.create(code="Full_1-x", referrer_id="cust_full",
                               target_url="https://shop.example.com/w?lang=en",
                               campaign="spring", utm={"source": "referral", "medium": "link"},
                               redirect_status=308, expires_at="2030-01-01T00:00:00+01:00")
        self.assertEqual(code["code"], "Full_1-x")
        self.assertEqual(code["utm"], {"source": "referral", "medium": "link"})
        self.assertEqual(code["redirect_status"], 308)
        self.assertEqual(code["expires_at"], "2029-12-31T23:00:00Z")
        status, _, got = self.srv.api("GET", "/api/v1/codes/Full_1-x")
        self.assertEqual(status, 200)
        self.assertEqual(got, code)

    def test_create_validation_names_the_field(self):
        cases = [
            ({}, "referrer_id"),
            ({"referrer_id": "r", "target_url": "https://evil.test/"}, "target_url"),
            ({"referrer_id": "r", "target_url": "http://example.com@evil.test/"}, "target_url"),
            ({"referrer_id": "r", "target_url": "https://example.com/\r\nX-Evil: 1"},
             "target_url"),
            ({"referrer_id": "r", "target_url": "https://example.com/" + "a" * 2048},
             "target_url"),
            ({"referrer_id": "r", "code": "metrics"}, "code"),
            ({"referrer_id": "r", "code": "a/b"}, "code"),
            ({"referrer_id": "r", "utm": {"source": "x" * 257}}, "utm.source"),
            ({"referrer_id": "r", "surprise": 1}, "surprise"),
            ({"referrer_id": "r", "redirect_status": 200}, "redirect_status"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                self.assertError(self.srv.api("POST", "/api/v1/codes", body), 400, field=field)

    def test_duplicate_code_is_409(self):
        self.srv.create(code="dupe1", referrer_id="r")
        self.assertError(self.srv.api("POST", "/api/v1/codes",
                                      {"code": "dupe1", "referrer_id": "other"}), 409)

    # --- get, patch, delete ---------------------------------------------------
    def test_get_unknown_is_404(self):
        self.assertError(self.srv.api("GET", "/api/v1/codes/nosuchcode"), 404)
        self.assertError(self.srv.api("GET", "/api/v1/codes/bad%20code"), 404)

    def test_patch_is_visible_to_the_next_redirect(self):
        self.srv.create(code="patchme", referrer_id="r")
        status, _, _ = self.srv.get("/patchme")
        self.assertEqual(status, 302)
        status, _, body = self.srv.api("PATCH", "/api/v1/codes/patchme",
                                       {"target_url": "https://b.example.com/new",
                                        "redirect_status": 307})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["target_url"], "https://b.example.com/new")
        status, headers, _ = self.srv.get("/patchme")
        self.assertEqual(status, 307)
        self.assertTrue(headers["location"].startswith("https://b.example.com/new?"))
        status, _, body = self.srv.api("PATCH", "/api/v1/codes/patchme", {"status": "disabled"})
        self.assertEqual(body["status"], "disabled")
        self.assertEqual(self.srv.get("/patchme")[0], 410)
        self.srv.api("PATCH", "/api/v1/codes/patchme", {"status": "active"})
        self.assertEqual(self.srv.get("/patchme")[0], 307)

    def test_patch_validation(self):
        self.srv.create(code="patchbad", referrer_id="r")
        self.assertError(self.srv.api("PATCH", "/api/v1/codes/patchbad",
                                      {"target_url": "ftp://example.com/"}), 400,
                         field="target_url")
        self.assertError(self.srv.api("PATCH", "/api/v1/codes/patchbad",
                                      {"referrer_id": "x"}), 400, field="referrer_id")
        self.assertError(self.srv.api("PATCH", "/api/v1/codes/nopatch", {"campaign": "x"}), 404)

    def test_delete_makes_the_code_gone_forever(self):
        self.srv.create(code="deleteme", referrer_id="r_del")
        status, _, body = self.srv.api("DELETE", "/api/v1/codes/deleteme")
        self.assertEqual(status, 204)
        self.assertEqual(self.srv.get("/deleteme")[0], 410)
        self.assertError(self.srv.api("GET", "/api/v1/codes/deleteme"), 404)
        self.assertError(self.srv.api("DELETE", "/api/v1/codes/deleteme"), 404)
        self.assertError(self.srv.api("POST", "/api/v1/codes",
                                      {"code": "deleteme", "referrer_id": "r"}), 409)
        _, _, listing = self.srv.api("GET", "/api/v1/codes?referrer_id=r_del")
        self.assertEqual(listing["codes"], [])

    # --- list ---------------------------------------------------------------
    def test_list_paginates_with_a_cursor(self):
        made = sorted(self.srv.create(referrer_id="lister")["code"] for _ in range(7))
        seen, cursor, pages = [], None, 0
        while True:
            path = "/api/v1/codes?referrer_id=lister&limit=3"
            if cursor:
                path += "&cursor=" + cursor
            status, _, body = self.srv.api("GET", path)
            self.assertEqual(status, 200, body)
            seen += [c["code"] for c in body["codes"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, made)
        self.assertEqual(pages, 3)

    def test_a_cursor_refgate_never_issued_is_400(self):
        self.srv.create(code="curs1", referrer_id="cursor_r")
        self.srv.create(code="curs2", referrer_id="cursor_other")
        for bad in ("zzz", "curs2", "a%20b"):
            self.assertError(self.srv.api("GET", "/api/v1/codes?referrer_id=cursor_r&cursor=" + bad),
                             400, field="cursor")
        self.assertEqual(
            self.srv.api("GET", "/api/v1/codes?referrer_id=cursor_r&cursor=curs1")[0], 200)

    def test_refusals_are_counted_under_the_route_called(self):
        def count(route, status):
            _, _, text = self.srv.api("GET", "/metrics", token="")
            m = re.search(r'^refgate_http_requests_total\{route="%s",status="%d"\} (\d+)$'
                          % (route, status), text, re.M)
            return int(m.group(1)) if m else 0
        before = (count("codes_create", 401), count("codes_create", 413), count("codes_patch", 415))
        self.srv.api("POST", "/api/v1/codes", {"referrer_id": "r"}, token="wrong")
        self.srv.api("POST", "/api/v1/codes", raw_body=b"x" * (1024 * 1024 + 1))
        self.srv.api("PATCH", "/api/v1/codes/abc", raw_body=b"{}",
                     headers={"Content-Type": "text/plain"})
        after = (count("codes_create", 401), count("codes_create", 413), count("codes_patch", 415))
        self.assertEqual([a - b for a, b in zip(after, before)], [1, 1, 1])

    def test_list_limit_bounds(self):
        for bad in ("0", "1001", "x", "-1", "1.5"):
            self.assertError(self.srv.api("GET", "/api/v1/codes?limit=" + bad), 400, field="limit")
        self.assertError(self.srv.api("GET", "/api/v1/codes?bogus=1"), 400, field="bogus")
        self.assertEqual(self.srv.api("GET", "/api/v1/codes?limit=1000")[0], 200)

    # --- batch --------------------------------------------------------------
    def test_batch_returns_results_in_input_order(self):
        items = [{"referrer_id": "batcher", "code": "batch_a"},
                 {"referrer_id": "batcher", "target_url": "https://evil.test/"},
                 {"referrer_id": "batcher"},
                 {"referrer_id": "batcher", "code": "batch_a"},
                 "not an object",
                 {"referrer_id": "batcher", "code": "batch_b", "utm": {"source": "s"}}]
        status, _, body = self.srv.api("POST", "/api/v1/codes/batch", {"codes": items})
        self.assertEqual(status, 200, body)
        r = body["results"]
        self.assertEqual(len(r), 6)
        self.assertEqual(r[0]["code"], "batch_a")
        self.assertEqual(r[1]["error"]["field"], "target_url")
        self.assertRegex(r[2]["code"], r"^[A-Za-z0-9]{7}$")
        self.assertEqual(r[3]["error"]["type"], "conflict")
        self.assertIn("error", r[4])
        self.assertEqual(r[5]["utm"], {"source": "s"})
        self.assertEqual(self.srv.get("/batch_b")[0], 302)

    def test_batch_of_ten_thousand(self):
        items = [{"referrer_id": "bulk%d" % (i % 10), "code": "bulk%05d" % i,
                  "target_url": "https://example.com/w",
                  "utm": {"source": "referral", "medium": "link", "campaign": "c%d" % (i % 50)}}
                 for i in range(10000)]
        status, _, body = self.srv.api("POST", "/api/v1/codes/batch", {"codes": items})
        self.assertEqual(status, 200)
        self.assertEqual(sum(1 for r in body["results"] if "code" in r), 10000)
        self.assertEqual(self.srv.get("/bulk09999")[0], 302)
        too_many = {"codes": [{"referrer_id": "r"}] * 10001}
        self.assertError(self.srv.api("POST", "/api/v1/codes/batch", too_many), 400, field="codes")
        self.assertError(self.srv.api("POST", "/api/v1/codes/batch", {"items": []}), 400,
                         field="codes")

    # --- unauthenticated routes -------------------------------------------
    def test_health_ready_and_metrics(self):
        self.assertEqual(self.srv.api("GET", "/healthz", token="")[0], 200)
        self.assertEqual(self.srv.api("GET", "/readyz", token="")[0], 200)
        self.srv.get("/nosuch12")
        status, headers, text = self.srv.api("GET", "/metrics", token="")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        for metric in ("refgate_http_requests_total{route=\"not_found\",status=\"404\"}",
                       "refgate_cache_hits_total", "refgate_cache_misses_total",
                       "refgate_open_connections", "refgate_redirect_duration_seconds_bucket",
                       "refgate_clicks_dropped_total"):
            self.assertIn(metric, text)

    def test_stats_before_any_rollup_are_zero(self):
        status, _, body = self.srv.api("GET", "/api/v1/referrers/r/stats?from=2026-01-01&to=2026-01-31")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["referrer_id"], body["from"], body["to"], body["clicks"],
                          body["by_day"]), ("r", "2026-01-01", "2026-01-31", 0, []))
        self.assertError(self.srv.api("GET", "/api/v1/referrers/-bad-/stats"), 404)
        self.assertError(self.srv.api("POST", "/api/v1/referrers/r/stats", {}), 405)

    def test_unknown_routes_and_methods(self):
        self.assertError(self.srv.api("GET", "/api/v2/codes"), 404)
        # Paths parse exactly: "stats" is no referrer.
        self.assertError(self.srv.api("GET", "/api/v1/referrers/stats"), 404)
        self.assertError(self.srv.api("GET", "/api/v1/codes/abc/def"), 404)
        self.assertError(self.srv.api("GET", "/nothing", token=""), 404)
        self.assertError(self.srv.api("PUT", "/api/v1/codes"), 405)
        self.assertError(self.srv.api("POST", "/healthz", token=""), 405)


class AuthRateLimit(unittest.TestCase):
    def test_wrong_tokens_are_throttled_but_the_right_one_always_passes(self):
        srv = Server(config="[admin]\nmax_auth_failures = 5\n")
        try:
            for _ in range(5):
                self.assertEqual(srv.api("GET", "/api/v1/codes", token="guess")[0], 401)
            status, headers, body = srv.api("GET", "/api/v1/codes", token="guess")
            self.assertEqual(status, 429, body)
            self.assertEqual(body["error"]["type"], "rate_limited")
            self.assertTrue(1 <= int(headers["retry-after"]) <= 60)
            # Someone else's guesses behind the same address never lock the
            # marketer out, and a right token lets no wrong one through.
            self.assertEqual(srv.api("GET", "/api/v1/codes")[0], 200)
            self.assertEqual(srv.api("GET", "/api/v1/codes", token="guess")[0], 429)
            # Health and metrics stay open.
            self.assertEqual(srv.api("GET", "/healthz", token="")[0], 200)
            self.assertEqual(srv.get("/healthz")[0], 200)
        finally:
            srv.cleanup()

    def test_right_tokens_are_never_counted(self):
        srv = Server(config="[admin]\nmax_auth_failures = 2\n")
        try:
            for _ in range(20):
                self.assertEqual(srv.api("GET", "/api/v1/codes")[0], 200)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
