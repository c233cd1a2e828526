"""Redirects of SPEC §2 against the real binary over loopback."""
import time
import unittest

from harness import Server, query_of


class Redirects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.srv.create(code="spring1", referrer_id="cust_1",
                       target_url="https://example.com/welcome?lang=en&utm_source=target",
                       utm={"source": "code_src", "medium": "link", "campaign": "spring"})
        cls.srv.create(code="perm301", referrer_id="cust_2", redirect_status=301)
        cls.srv.create(code="perm308", referrer_id="cust_2", redirect_status=308)
        cls.srv.create(code="temp307", referrer_id="cust_2", redirect_status=307)
        cls.srv.create(code="expired", referrer_id="cust_3", expires_at="2020-01-01T00:00:00Z")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_merges_target_code_and_visitor_query_in_order(self):
        status, h, body = self.srv.get("/spring1?utm_medium=email&x=1&ref=spoof")
        self.assertEqual(status, 302)
        self.assertEqual(body, b"")
        self.assertTrue(h["location"].startswith("https://example.com/welcome?"))
        q = query_of(h["location"])
        d = dict(q)
        self.assertEqual(d["lang"], "en")
        self.assertEqual(d["utm_source"], "target")  # the target's own wins over the code's
        self.assertEqual(d["utm_medium"], "email")   # the visitor's wins over the code's
        self.assertEqual(d["utm_campaign"], "spring")
        self.assertEqual(d["x"], "1")
        self.assertEqual(d["ref"], "spring1")        # never the visitor's
        self.assertRegex(d["rg_click"], r"^[A-Za-z0-9_-]{1,64}$")
        self.assertEqual([k for k, _ in q][-2:], ["ref", "rg_click"])
        self.assertEqual(h["cache-control"], "private, no-store")

    def test_click_ids_are_unique(self):
        ids = {dict(query_of(self.srv.get("/spring1")[1]["location"]))["rg_click"]
               for _ in range(50)}
        self.assertEqual(len(ids), 50)

    def test_new_visitor_gets_a_cookie_returning_visitor_keeps_it(self):
        _, h, _ = self.srv.get("/spring1")
        cookie = h["set-cookie"]
        self.assertRegex(cookie, r"^rg_vid=[A-Za-z0-9_-]{22}; Max-Age=7776000; Path=/; "
                                 r"HttpOnly; SameSite=Lax; Secure$")
        vid = cookie.split(";")[0].split("=", 1)[1]
        _, h2, _ = self.srv.get("/spring1", headers={"Cookie": "a=b; rg_vid=" + vid})
        self.assertTrue(h2["set-cookie"].startswith("rg_vid=%s;" % vid))
        _, h3, _ = self.srv.get("/spring1", headers={"Cookie": "rg_vid=bad"})
        self.assertNotIn("rg_vid=bad", h3["set-cookie"])
        self.assertNotEqual(h3["set-cookie"].split(";")[0], "rg_vid=" + vid)

    def test_permanent_redirects_are_cached_briefly(self):
        for code, status, cache in (("perm301", 301, "private, max-age=90"),
                                    ("perm308", 308, "private, max-age=90"),
                                    ("temp307", 307, "private, no-store")):
            s, h, _ = self.srv.get("/" + code)
            self.assertEqual(s, status)
            self.assertEqual(h["cache-control"], cache)

    def test_bots_are_redirected_without_a_cookie(self):
        for ua in ("Slackbot-LinkExpanding 1.0", "facebookexternalhit/1.1", "curl/8.0",
                   "python-requests/2.31", "WhatsApp/2.23", "Googlebot/2.1", ""):
            s, h, _ = self.srv.get("/spring1", ua=ua)
            self.assertEqual(s, 302, ua)
            self.assertIn("location", h)
            self.assertNotIn("set-cookie", h, ua)

    def test_head_and_prefetch_are_bots(self):
        s, h, body = self.srv.get("/spring1", method="HEAD")
        self.assertEqual((s, body), (302, b""))
        self.assertIn("location", h)
        self.assertNotIn("set-cookie", h)
        for hdr in ({"Sec-Purpose": "prefetch"}, {"Purpose": "prefetch"}):
            s, h, _ = self.srv.get("/spring1", headers=hdr)
            self.assertEqual(s, 302)
            self.assertNotIn("set-cookie", h)

    def test_expired_code_is_gone(self):
        s, h, _ = self.srv.get("/expired")
        self.assertEqual(s, 410)
        self.assertNotIn("location", h)
        self.assertNotIn("set-cookie", h)

    def test_expiry_takes_effect_without_restart(self):
        # What a GET must answer depends only on the clock around it, so a
        # slow machine cannot fail this: 302 if it ended before the expiry,
        # 410 if it began after, either in between.
        expiry = int(time.time()) + 3
        self.srv.create(code="shortlived", referrer_id="r",
                        expires_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry)))
        before = time.time()
        status = self.srv.get("/shortlived")[0]
        if time.time() < expiry:
            self.assertEqual(status, 302)
        elif before >= expiry:
            self.assertEqual(status, 410)
        while time.time() < expiry + 0.05:  # the clock passing the expiry is the condition
            time.sleep(0.05)
        self.assertEqual(self.srv.get("/shortlived")[0], 410)

    def test_unknown_and_malformed_codes_are_404(self):
        for path in ("/unknown1", "/ab", "/" + "a" * 65, "/a.b.c", "/abc/def", "/", "/%41bc",
                     "/favicon.ico", "/robots.txt"):
            s, h, _ = self.srv.get(path)
            self.assertEqual(s, 404, path)
            self.assertNotIn("location", h)

    def test_public_health(self):
        self.assertEqual(self.srv.get("/healthz")[0], 200)

    def test_other_methods_are_refused(self):
        s, h, _ = self.srv.get("/spring1", method="DELETE")
        self.assertEqual(s, 405)
        self.assertEqual(h["allow"], "GET, HEAD")

    def test_no_track_redirects_without_the_parameter_or_a_click_id(self):
        s, h, _ = self.srv.get("/spring1?rg_notrack=1&a=2")
        self.assertEqual(s, 302)
        self.assertNotIn("rg_notrack", h["location"])
        self.assertIn("a=2", h["location"])
        self.assertNotIn("rg_click", h["location"])  # no record holds one

    def test_plus_in_the_visitor_query_stays_a_space(self):
        _, h, _ = self.srv.get("/spring1?utm_source=a+b&q=1%2B1")
        self.assertNotIn("%2Bb", h["location"])
        d = dict(query_of(h["location"]))  # parses as a browser's form would
        self.assertEqual(d["utm_source"], "a b")
        self.assertEqual(d["q"], "1+1")

    def test_repeated_visitor_keys_keep_every_value_in_order(self):
        _, h, _ = self.srv.get("/spring1?tag=a&x=1&tag=b")
        q = query_of(h["location"])
        self.assertEqual([v for k, v in q if k == "tag"], ["a", "b"])

    def test_a_malformed_pair_drops_only_itself(self):
        _, h, _ = self.srv.get("/spring1?a=%zz&b=1")
        d = dict(query_of(h["location"]))
        self.assertEqual(d["b"], "1")
        self.assertNotIn("a", d)

    def test_header_injection_through_the_query_is_encoded(self):
        for q in ("x=%0D%0ASet-Cookie:%20evil=1", "x=%0ALocation:%20https://evil.test/",
                  "%0D%0Ay=1", "x=%E2%80%A8%00"):
            raw = self.srv.raw(("GET /spring1?%s HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla/5.0\r\n"
                                "Connection: close\r\n\r\n" % q).encode())
            head = raw.split(b"\r\n\r\n")[0]
            lines = head.split(b"\r\n")
            self.assertEqual(lines[0], b"HTTP/1.1 302 Found", raw)
            self.assertEqual(sum(1 for l in lines if l.lower().startswith(b"set-cookie:")), 1)
            self.assertEqual(sum(1 for l in lines if l.lower().startswith(b"location:")), 1)
            loc = [l for l in lines if l.lower().startswith(b"location:")][0]
            self.assertTrue(all(0x21 <= c < 0x7f for c in loc[len(b"Location: "):]), loc)


class Fallbacks(unittest.TestCase):
    def test_not_found_and_expired_urls(self):
        srv = Server(config="""
[redirect]
default_target = "https://example.com/"
not_found_url = "https://example.com/no-such-link"
expired_url = "https://example.com/expired-link"
status = 307
ref_param = "via"
click_param = ""
""")
        try:
            srv.create(code="gone1", referrer_id="r", expires_at="2020-01-01T00:00:00Z")
            srv.create(code="live1", referrer_id="r")
            s, h, _ = srv.get("/nosuchcode")
            self.assertEqual((s, h["location"]), (302, "https://example.com/no-such-link"))
            s, h, _ = srv.get("/gone1")
            self.assertEqual((s, h["location"]), (302, "https://example.com/expired-link"))
            s, h, _ = srv.get("/live1")
            self.assertEqual((s, h["location"]), (307, "https://example.com/?via=live1"))
        finally:
            srv.cleanup()

    def test_ipv6_literal_hosts_and_targets(self):
        for host in ("[::1]", "::1"):
            srv = Server(config="""
[redirect]
default_target = "http://[::1]:9/landing"
allowed_hosts = ["%s"]
""" % host)
            try:
                srv.create(code="six1", referrer_id="r", target_url="http://[::1]:9/x?a=1")
                srv.create(code="six2", referrer_id="r")
                s, h, _ = srv.get("/six1")
                self.assertEqual(s, 302)
                self.assertTrue(h["location"].startswith("http://[::1]:9/x?a=1&ref=six1&"), h)
                self.assertTrue(srv.get("/six2")[1]["location"].startswith("http://[::1]:9/landing?"))
                status, _, body = srv.api("POST", "/api/v1/codes",
                                          {"referrer_id": "r", "target_url": "http://[::2]/"})
                self.assertEqual((status, body["error"]["field"]), (400, "target_url"))
            finally:
                srv.cleanup()

    def test_forward_query_off_and_cookie_options(self):
        srv = Server(config="""
[redirect]
forward_query = false
[cookie]
name = "vid"
domain = ".example.com"
max_age_days = 1
secure = false
""")
        try:
            srv.create(code="plain1", referrer_id="r", target_url="https://example.com/x")
            s, h, _ = srv.get("/plain1?a=1")
            self.assertEqual(s, 302)
            self.assertNotIn("a=1", h["location"])
            self.assertRegex(h["set-cookie"], r"^vid=[A-Za-z0-9_-]+; Max-Age=86400; Path=/; "
                                              r"HttpOnly; SameSite=Lax; Domain=\.example\.com$")
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
