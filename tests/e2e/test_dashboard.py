"""The dashboard (SPEC §7) in a real browser: Debian's chromium, driven by
Playwright (dashboard/drive.mjs), over a scenario made through the real
binary (clicks, conversions, `refgate compact`). Screenshots go to
BUILD_DIR/dashboard-shots; with REFGATE_UPDATE_SCREENSHOT=1 the overview
also replaces src/dashboard/screenshot.png, the README's picture."""
import csv
import io
import json
import os
import shutil
import subprocess
import unittest
from urllib.parse import quote

from harness import BUILD_DIR, DEFAULT_CONFIG, HERE, Server, compact, node_package, query_of

CONFIG = DEFAULT_CONFIG + """
[rewards]
sale_percent = 10.0
lead_minor = 100
hold_days = 0
"""
XSS = "<img src=x onerror=\"window.__xss=1\">"
XSS2 = "<script>window.__xss2=1</script>"
CHROMIUM = os.environ.get("CHROMIUM") or next(
    (p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(p)), None)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
       "require-trusted-types-for 'script'; trusted-types 'none'")


class Dashboard(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        assert CHROMIUM, "chromium is needed (scripts/test.sh installs it)"
        cls.srv = srv = Server(config=CONFIG)
        srv.create(code="al_code", referrer_id="alice", campaign="spring")
        srv.create(code="al_two", referrer_id="alice")
        srv.create(code="bo_code", referrer_id="bob")

        def click(path, visitor):
            status, h, _ = srv.get(path, headers={"Cookie": "rg_vid=" + visitor * 22})
            assert status == 302, status
            return dict(query_of(h["location"]))["rg_click"]

        # alice: 3 clicks by 3 visitors, one of them with markup as its UTM
        # values; bob: 1 click.
        cid = click("/al_code?utm_source=newsletter&utm_medium=email", "A")
        click("/al_code?utm_source=%s&utm_campaign=%s" % (quote(XSS), quote(XSS2)), "B")
        click("/al_two", "C")
        click("/bo_code", "D")
        for body in [
                {"event_id": "sale-1", "type": "sale", "order_id": "o1", "amount_minor": 4990,
                 "click_id": cid, "customer_id": "cus_1"},
                {"event_id": "lead-1", "type": "lead", "code": "bo_code"}]:
            status, _, reply = srv.api("POST", "/api/v1/events", body)
            assert status == 201, reply
        compact(srv.data_dir, srv.config_path)
        cls.shots = os.path.join(BUILD_DIR, "dashboard-shots")
        shutil.rmtree(cls.shots, ignore_errors=True)
        os.makedirs(cls.shots)
        d = node_package("dashboard", "playwright-core")
        env = dict(os.environ, REFGATE_ADMIN="http://%s:%d" % srv.admin_addr,
                   REFGATE_TOKEN=srv.token, REFERRER="alice", NEW_CODE="dash-new",
                   OUT_DIR=cls.shots, CHROMIUM=CHROMIUM)
        r = subprocess.run(["node", os.path.join(d, "drive.mjs")], env=env, capture_output=True,
                           text=True, timeout=240)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.seen = json.loads(r.stdout)
        if os.environ.get("REFGATE_UPDATE_SCREENSHOT") == "1":
            shutil.copy(os.path.join(cls.shots, "dashboard-overview.png"),
                        os.path.join(HERE, "../../src/dashboard/screenshot.png"))

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_the_page_is_served_from_the_binary_with_a_strict_policy(self):
        status, h, body = self.srv.api("GET", "/dashboard", token="")
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertEqual(h["content-security-policy"], CSP)
        self.assertEqual((h["x-content-type-options"], h["referrer-policy"]),
                         ("nosniff", "no-referrer"))
        self.assertNotIn("<script>", body)  # no inline script: app.js only
        for name in ("app.js", "app.css"):
            with open(os.path.join(HERE, "../../src/dashboard", name)) as f:
                source = f.read()
            status, h, served = self.srv.api("GET", "/dashboard/" + name, token="")
            self.assertEqual((status, served), (200, source))
            # No way in for markup: nothing parses a string as HTML or code.
            for sink in (".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write",
                         "eval(", "new Function", "srcdoc", "DOMParser",
                         "createContextualFragment", "location ="):
                self.assertNotIn(sink, source, name)
            status, _, _ = self.srv.api("GET", "/dashboard/" + name,
                                        headers={"If-None-Match": h["etag"]})
            self.assertEqual(status, 304)
        # The page itself: 304 with its validator and its policy; HEAD without a body.
        status, h, _ = self.srv.api("GET", "/dashboard", token="")
        status, h304, body = self.srv.api("GET", "/dashboard", token="",
                                          headers={"If-None-Match": h["etag"]})
        self.assertEqual((status, body, h304["etag"], h304["content-security-policy"]),
                         (304, None, h["etag"], CSP))
        status, hh, body = self.srv.api("HEAD", "/dashboard", token="")
        self.assertEqual((status, body, hh["content-length"]), (200, None, h["content-length"]))
        for path in ("/dashboard/nope.js", "/dashboard/index.html", "/dashboard/.."):
            self.assertEqual(self.srv.api("GET", path, token="")[0], 404, path)

    def test_a_wrong_token_is_refused_and_the_right_one_kept_in_the_tab(self):
        self.assertIn("refused", self.seen["wrongToken"])
        self.assertEqual(self.seen["tokenStorage"], [["refgate.token"], []])

    def test_the_totals_and_charts_show_the_scenario(self):
        cards = self.seen["cards"]
        self.assertEqual((cards["clicks"], cards["unique_visitors"], cards["conversions"],
                          cards["leads"]), ("4", "4", "1", "1"))
        self.assertEqual(cards["revenue_minor"], "49.90 EUR")
        self.assertEqual(cards["reward_minor"], "5.99 EUR")  # 499 + the lead's 100
        charts = self.seen["charts"]
        clicks, visitors = charts["chart-clicks"]
        self.assertEqual(len(clicks), 30)  # one point a day over the default 30 days
        self.assertEqual(sum(v for _, v in clicks), 4)
        self.assertEqual(sum(v for _, v in visitors), 4)
        self.assertEqual(max(v for _, v in clicks), 4)  # all on one day
        revenue, rewards = charts["chart-money"]
        self.assertEqual((sum(v for _, v in revenue), sum(v for _, v in rewards)), (4990, 599))
        conversions, leads = charts["chart-conversions"]
        self.assertEqual((sum(v for _, v in conversions), sum(v for _, v in leads)), (1, 1))

    def test_the_tables_fill_and_sort(self):
        by_ref = {r[0]: r for r in self.seen["referrers"]}
        self.assertEqual(by_ref["alice"][1:5], ["3", "3", "1", "49.90 EUR"])
        self.assertEqual((by_ref["bob"][1], by_ref["bob"][5]), ("1", "1"))
        self.assertEqual([r[0] for r in self.seen["referrers"]], ["alice", "bob"])  # by clicks
        self.assertEqual(self.seen["sortedAscending"], ["alice", "bob"])
        self.assertEqual(self.seen["sortedDescending"], ["bob", "alice"])
        channels = {(r[0], r[1], r[2]): r[3] for r in self.seen["channels"]}
        self.assertEqual(channels[("newsletter", "email", "—")], "1")  # — : no value
        self.assertEqual(channels[("—", "—", "—")], "2")  # al_two's and bob's clicks

    def test_markup_in_utm_values_is_shown_as_text_and_never_runs(self):
        channels = {(r[0], r[2]): r[3] for r in self.seen["channels"]}
        self.assertEqual(channels[(XSS, XSS2)], "1")
        self.assertEqual(self.seen["xss"], [None, None])
        self.assertEqual(self.seen["htmlSink"], "TypeError")  # the policy, in the browser
        self.assertEqual(self.seen["images"], 0)  # no <img> came out of a value
        self.assertEqual(self.seen["pageErrors"], [])
        # No script error, no refusal by the policy: only the wrong token's 401.
        self.assertEqual([m for m in self.seen["console"] if m.startswith("error")],
                         ["error: Failed to load resource: the server responded with a status "
                          "of 401 (Unauthorized)"])

    def test_amounts_are_exact_in_the_currencys_minor_units(self):
        self.assertEqual(self.seen["money"], ["-1,234.56 EUR", "1,234,567 JPY", "1.005 KWD",
                                              "1,234.5678 CLF", "0.05 EUR", "0.00 EUR"])

    def test_the_referrer_page_shows_codes_links_qr_and_events(self):
        self.assertEqual(self.seen["referrerId"], "alice")
        codes = {r[0]: r for r in self.seen["codes"]}
        self.assertEqual(set(codes), {"al_code", "al_two"})
        self.assertTrue(codes["al_code"][1].endswith("/al_code"))  # the short link
        self.assertEqual((codes["al_code"][2], codes["al_code"][3]), ("active", "spring"))
        self.assertEqual((codes["al_code"][5], codes["al_two"][5]), ("2", "1"))  # clicks
        self.assertEqual(self.seen["qr"]["src"], "blob:")
        self.assertGreater(self.seen["qr"]["width"], 0)
        self.assertEqual([r[1] for r in self.seen["referrerEvents"]], ["sale-1"])

    def test_a_code_is_created_and_disabled_through_the_page(self):
        self.assertEqual(self.seen["created"][2:4], ["active", "winter"])
        self.assertEqual(self.seen["disabled"][2], "disabled")
        status, _, code = self.srv.api("GET", "/api/v1/codes/dash-new")
        self.assertEqual((status, code["referrer_id"], code["status"], code["campaign"]),
                         (200, "alice", "disabled", "winter"))

    def test_the_events_list_shows_the_attribution(self):
        events = {r[1]: r for r in self.seen["events"]}
        self.assertEqual(set(events), {"sale-1", "lead-1"})
        self.assertEqual(events["sale-1"][2:9],
                         ["sale", "49.90 EUR", "attributed", "alice", "al_code", "click_id",
                          "4.99 EUR"])
        self.assertEqual(events["lead-1"][2:9],
                         ["lead", "—", "attributed", "bob", "bo_code", "code", "1.00 EUR"])

    def test_the_balances_and_their_csv_download(self):
        with open(os.path.join(self.srv.data_dir, "rollups", "rewards.csv"), newline="") as f:
            on_disk = f.read()
        self.assertEqual(self.seen["downloadName"], "rewards.csv")
        self.assertEqual(self.seen["csv"], on_disk)
        rows = {r["referrer_id"]: r for r in csv.DictReader(io.StringIO(self.seen["csv"]))}
        self.assertEqual((rows["alice"]["reward_minor"], rows["alice"]["balance_minor"]),
                         ("499", "499"))
        self.assertEqual((rows["bob"]["leads"], rows["bob"]["reward_minor"]), ("1", "100"))
        shown = {r[0]: r for r in self.seen["balances"]}
        self.assertEqual(shown["alice"][-1], "4.99 EUR")
        self.assertEqual(shown["bob"][-1], "1.00 EUR")

    def test_screenshots_were_taken(self):
        for name in ("login", "overview", "referrer", "events", "balances"):
            path = os.path.join(self.shots, "dashboard-%s.png" % name)
            with open(path, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", path)


if __name__ == "__main__":
    unittest.main()
