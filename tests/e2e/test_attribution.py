"""Attribution and rewards (SPEC §6) through the real binary: scripted
clicks and conversions, `refgate compact`, and the exact numbers in
events.csv, rewards.csv, codes.csv and the events API."""
import csv
import datetime
import json
import os
import shutil
import subprocess
import unittest

from harness import BIN, DEFAULT_CONFIG, Server, compact, duckdb_read, query_of

EVENTS_TOKEN = "e2e-events-token-fedcba9876543210"
RULES = DEFAULT_CONFIG + """
[rewards]
sale_percent = 10.0
lead_minor = 100
hold_days = 0
window_days = 30
"""
VISITOR = "V" * 22


def rfc3339(us):
    return datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Scenario(unittest.TestCase):
    """One program: alice, bob, carol, dave and their codes; every rule."""

    @classmethod
    def setUpClass(cls):
        cls.srv = srv = Server(config=RULES, env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN})
        for code, ref in [("al_code", "alice"), ("bo_code", "bob"), ("ca_code", "carol"),
                          ("da_code", "dave")]:
            srv.create(code=code, referrer_id=ref)
        cls.click_ids = {}

        def click(code, visitor=None, ua=None):
            headers = {"Cookie": "rg_vid=" + visitor} if visitor else {}
            status, h, _ = srv.get("/" + code, headers=headers, **({"ua": ua} if ua else {}))
            assert status == 302, status
            return dict(query_of(h["location"]))["rg_click"]

        def post(body):
            status, _, reply = srv.api("POST", "/api/v1/events", body, token=EVENTS_TOKEN)
            assert status == 201, (status, reply)

        cls.post = staticmethod(post)
        # 1. click id: alice's link, the sale carries rg_click.
        cid = click("al_code")
        post({"event_id": "s-clickid", "type": "sale", "order_id": "o1", "amount_minor": 4990,
              "click_id": cid, "customer_id": "cus_1"})
        # 2. a forged click id: one character changed.
        forged = cid[:10] + ("A" if cid[10] != "A" else "B") + cid[11:]
        post({"event_id": "s-forged", "type": "sale", "order_id": "o2", "amount_minor": 1000,
              "click_id": forged})
        #    A forged click id is evidence that failed; the code still attributes.
        post({"event_id": "s-forged-code", "type": "sale", "order_id": "o2b", "amount_minor": 1000,
              "click_id": forged, "code": "ca_code"})
        # 3. a code typed at checkout.
        post({"event_id": "l-code", "type": "lead", "code": "bo_code"})
        # 4. the visitor's last click wins: ca_code, then da_code.
        click("ca_code", visitor=VISITOR)
        click("da_code", visitor=VISITOR)
        post({"event_id": "s-visitor", "type": "sale", "order_id": "o4", "amount_minor": 15,
              "visitor_id": VISITOR})
        # 5. the bound customer cus_1 (bound to alice by s-clickid) buys again
        #    with bob's code: alice still earns.
        post({"event_id": "s-bound", "type": "sale", "order_id": "o5", "amount_minor": 5,
              "customer_id": "cus_1", "code": "bo_code"})
        # 6. self-referral: bob buys through his own code.
        post({"event_id": "s-self", "type": "sale", "order_id": "o6", "amount_minor": 2000,
              "customer_id": "bob", "code": "bo_code"})
        # 7. a bot's click id attributes nothing.
        bot_cid = click("da_code", ua="Slackbot-LinkExpanding 1.0")
        post({"event_id": "s-bot", "type": "sale", "order_id": "o7", "amount_minor": 3000,
              "click_id": bot_cid})
        # 8. refunds of s-clickid (4990, reward 499): 1000, then 3990; then one too many.
        post({"event_id": "r-1", "type": "refund", "order_id": "o1", "amount_minor": 1000})
        post({"event_id": "r-2", "type": "refund", "order_id": "o1", "amount_minor": 3990})
        post({"event_id": "r-3", "type": "refund", "order_id": "o1", "amount_minor": 1})
        # 9. a conversion that reaches the log before its click: unattributed
        #    at first, attributed by the next run.
        cls.later_visitor = "L" * 22
        post({"event_id": "s-early", "type": "sale", "order_id": "o9", "amount_minor": 700,
              "visitor_id": cls.later_visitor,
              "occurred_at": rfc3339(datetime.datetime.now().timestamp() * 1e6 + 120e6)})
        cls.first_run = compact(srv.data_dir, srv.config_path)
        cls.first_events = cls.events()
        click("bo_code", visitor=cls.later_visitor)
        srv.stop()
        cls.second_run = compact(srv.data_dir, srv.config_path)
        cls.rollups = os.path.join(srv.data_dir, "rollups")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    @classmethod
    def events(cls):
        rows = {}
        daily = os.path.join(cls.srv.data_dir, "rollups", "daily")
        for d in sorted(os.listdir(daily)):
            path = os.path.join(daily, d, "events.csv")
            if os.path.exists(path):
                rows.update({r["event_id"]: r for r in read_csv(path)})
        return rows

    def row(self, event_id):
        return self.events()[event_id]

    def decided(self, event_id):
        r = self.row(event_id)
        return (r["status"], r["method"], r["referrer_id"], r["code"], r["reward_minor"],
                r["reason"])

    def test_a_click_id_attributes_its_click(self):
        self.assertEqual(self.decided("s-clickid"),
                         ("attributed", "click_id", "alice", "al_code", "499", ""))

    def test_a_forged_click_id_attributes_nothing(self):
        self.assertEqual(self.decided("s-forged"),
                         ("unattributed", "", "", "", "0", "invalid_click_id"))

    def test_a_forged_click_id_does_not_stop_the_rules_below_it(self):
        self.assertEqual(self.decided("s-forged-code"),
                         ("attributed", "code", "carol", "ca_code", "100", "invalid_click_id"))

    def test_a_code_typed_at_checkout_attributes_a_lead(self):
        self.assertEqual(self.decided("l-code"), ("attributed", "code", "bob", "bo_code", "100", ""))

    def test_the_visitors_last_click_wins_and_rewards_round_half_even(self):
        # 10 % of 15 is 1.5: half-even gives 2.
        self.assertEqual(self.decided("s-visitor"),
                         ("attributed", "visitor", "dave", "da_code", "2", ""))

    def test_a_bound_customer_stays_with_its_referrer(self):
        # 10 % of 5 is 0.5: half-even gives 0.
        self.assertEqual(self.decided("s-bound"),
                         ("attributed", "customer", "alice", "al_code", "0", ""))

    def test_self_referral_is_held(self):
        self.assertEqual(self.decided("s-self"),
                         ("held", "code", "bob", "bo_code", "0", "self_referral"))

    def test_a_bots_click_id_attributes_nothing(self):
        self.assertEqual(self.decided("s-bot")[:3], ("unattributed", "", ""))

    def test_refunds_reverse_in_proportion_and_never_past_the_sale(self):
        # 499 * 1000 / 4990 = 100; all of it: 499 in all.
        self.assertEqual(self.decided("r-1"), ("attributed", "click_id", "alice", "al_code", "-100", ""))
        self.assertEqual(self.decided("r-2"), ("attributed", "click_id", "alice", "al_code", "-399", ""))
        self.assertEqual(self.decided("r-3")[0::5], ("held", "exceeds_sale"))

    def test_an_event_before_its_click_is_attributed_by_a_later_run(self):
        self.assertEqual(self.first_events["s-early"]["status"], "unattributed")
        self.assertEqual(self.decided("s-early"),
                         ("attributed", "visitor", "bob", "bo_code", "70", ""))

    def test_rewards_csv_adds_up(self):
        rows = {r["referrer_id"]: r for r in read_csv(os.path.join(self.rollups, "rewards.csv"))}
        alice = rows["alice"]
        # s-clickid 4990 (499) and s-bound 5 (0); refunded 4990 (-499).
        self.assertEqual((alice["currency"], alice["leads"], alice["sales"], alice["revenue_minor"],
                          alice["refunded_minor"], alice["reward_minor"], alice["payable_minor"],
                          alice["paid_minor"], alice["balance_minor"]),
                         ("EUR", "0", "2", "4995", "4990", "0", "0", "0", "0"))
        self.assertEqual((rows["bob"]["leads"], rows["bob"]["sales"], rows["bob"]["reward_minor"]),
                         ("1", "1", "170"))  # the lead (100) and s-early (70)
        self.assertEqual((rows["dave"]["sales"], rows["dave"]["reward_minor"]), ("1", "2"))
        self.assertEqual((rows["carol"]["sales"], rows["carol"]["reward_minor"]), ("1", "100"))

    def test_codes_csv_counts_conversions_and_revenue_less_refunds(self):
        rows = {}
        daily = os.path.join(self.rollups, "daily")
        for d in os.listdir(daily):
            for r in read_csv(os.path.join(daily, d, "codes.csv")):
                rows.setdefault(r["code"], [0, 0])
                rows[r["code"]][0] += int(r["conversions"])
                rows[r["code"]][1] += int(r["revenue_minor"])
        self.assertEqual(rows["al_code"], [2, 5])  # 4990 + 5 - 4990
        self.assertEqual(rows["da_code"], [1, 15])
        self.assertEqual(rows["bo_code"], [1, 700])  # s-early; the lead is no conversion

    def test_the_events_api_says_what_was_decided(self):
        srv = Server(config=RULES, env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN},
                     data_dir=self.srv.data_dir)
        try:
            status, _, got = srv.api("GET", "/api/v1/events/s-clickid", token=EVENTS_TOKEN)
            self.assertEqual(status, 200)
            self.assertEqual((got["status"], got["reward_minor"]), ("attributed", 499))
            self.assertEqual((got["attribution"]["referrer_id"], got["attribution"]["method"],
                              got["attribution"]["code"]), ("alice", "click_id", "al_code"))
            self.assertRegex(got["attribution"]["click_at"], r"^\d{4}-\d\d-\d\dT")
            status, _, got = srv.api("GET", "/api/v1/events/s-self", token=EVENTS_TOKEN)
            self.assertEqual((got["status"], got["reason"]), ("held", "self_referral"))
            # Every day an event of the scenario fell on (s-early is 2 minutes
            # ahead, so near midnight it falls on tomorrow).
            days = sorted(r["date"] for r in self.events().values())
            status, _, bob = srv.api("GET", "/api/v1/referrers/bob/stats?from=%s&to=%s"
                                     % (days[0], days[-1]))
            self.assertEqual(status, 200)
            # The lead (100) and s-early (70); s-forged and s-bot stay unattributed.
            self.assertEqual((bob["leads"], bob["reward_minor"], bob["conversions"],
                              bob["unattributed"]), (1, 170, 1, 2))
            self.assertAlmostEqual(bob["conversion_rate"], 1 / bob["unique_visitors"])
        finally:
            srv.cleanup()

    def test_the_events_list_and_balances_are_the_files_rows(self):
        srv = Server(config=RULES, env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN},
                     data_dir=self.srv.data_dir)
        try:
            files = self.events()
            days = sorted(r["date"] for r in files.values())
            rng = "from=%s&to=%s" % (days[0], days[-1])
            listed, cursor, pages = {}, None, 0
            while True:
                path = "/api/v1/events?%s&limit=3" % rng + ("&cursor=" + cursor if cursor else "")
                status, _, page = srv.api("GET", path)
                self.assertEqual(status, 200, page)
                self.assertLessEqual(len(page["events"]), 3)
                for e in page["events"]:
                    self.assertNotIn(e["event_id"], listed)  # no event on two pages
                    listed[e["event_id"]] = e
                pages += 1
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            self.assertEqual(sorted(listed), sorted(files))
            self.assertGreater(pages, 1)
            for eid, row in files.items():
                e = listed[eid]
                a = e["attribution"] or {}
                self.assertEqual((e["date"], e["type"], e["status"], str(e["reward_minor"]),
                                  a.get("referrer_id", ""), a.get("method", "")),
                                 (row["date"], row["type"], row["status"], row["reward_minor"],
                                  row["referrer_id"], row["method"]), eid)
            # One referrer's events only.
            status, _, bob = srv.api("GET", "/api/v1/events?%s&referrer_id=bob" % rng)
            self.assertEqual(sorted(e["event_id"] for e in bob["events"]),
                             sorted(k for k, r in files.items() if r["referrer_id"] == "bob"))
            # A cursor refgate did not issue, the events token, an unknown key.
            for path, token, want in [
                    ("/api/v1/events?cursor=2020-01-01/s-self", None, (400, "cursor")),
                    ("/api/v1/events?limit=0", None, (400, "limit")),
                    ("/api/v1/events?sort=date", None, (400, "sort")),
                    ("/api/v1/events", EVENTS_TOKEN, (403, None)),
                    ("/api/v1/rewards", EVENTS_TOKEN, (403, None)),
                    ("/api/v1/rewards.csv", EVENTS_TOKEN, (403, None))]:
                status, _, err = srv.api("GET", path, token=token)
                self.assertEqual((status, err["error"].get("field")), want, path)
            # The balances: rewards.csv byte for byte, and the same rows as JSON.
            status, headers, text = srv.api("GET", "/api/v1/rewards.csv")
            self.assertEqual(status, 200)
            self.assertTrue(headers["content-type"].startswith("text/csv"))
            self.assertIn("attachment", headers["content-disposition"])
            with open(os.path.join(self.rollups, "rewards.csv"), newline="") as f:
                self.assertEqual(text, f.read())
            status, _, got = srv.api("GET", "/api/v1/rewards")
            self.assertEqual(got["currency"], "EUR")
            rows = read_csv(os.path.join(self.rollups, "rewards.csv"))
            self.assertEqual([{k: str(v) for k, v in r.items()} for r in got["referrers"]],
                             [{k: v for k, v in r.items() if k != "currency"} for r in rows])
        finally:
            srv.cleanup()

    def test_recomputing_from_scratch_gives_the_same_files(self):
        before = {}
        for root, _, files in os.walk(self.rollups):
            for f in files:
                if f in ("events.csv", "rewards.csv"):
                    with open(os.path.join(root, f), "rb") as fh:
                        before[os.path.relpath(os.path.join(root, f), self.rollups)] = fh.read()
        copy = os.path.join(self.srv.dir, "scratch")
        shutil.copytree(self.srv.data_dir, copy)
        shutil.rmtree(os.path.join(copy, "rollups"))
        compact(copy, self.srv.config_path)
        for rel, content in before.items():
            with open(os.path.join(copy, "rollups", rel), "rb") as fh:
                self.assertEqual(fh.read(), content, rel)
        self.assertGreater(len(before), 1)

    def test_duckdb_reads_the_conversion_files(self):
        got = duckdb_read(self.rollups)
        events = {e["event_id"]: e for e in got["events"]}
        self.assertEqual(int(events["s-clickid"]["reward_minor"]), 499)
        self.assertEqual(int(events["r-2"]["reward_minor"]), -399)
        self.assertEqual(str(events["s-clickid"]["date"]), self.row("s-clickid")["date"])
        rewards = {r["referrer_id"]: r for r in got["rewards"]}
        self.assertEqual(int(rewards["bob"]["reward_minor"]), 170)


class Rules(unittest.TestCase):
    def start(self, rules):
        srv = Server(config=DEFAULT_CONFIG + "\n[rewards]\n" + rules,
                     env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN})
        self.addCleanup(srv.cleanup)
        return srv

    def decide(self, srv, body):
        status, _, reply = srv.api("POST", "/api/v1/events", body, token=EVENTS_TOKEN)
        self.assertEqual(status, 201, reply)
        srv.stop()
        compact(srv.data_dir, srv.config_path)
        daily = os.path.join(srv.data_dir, "rollups", "daily")
        for d in os.listdir(daily):
            p = os.path.join(daily, d, "events.csv")
            if os.path.exists(p):
                for r in read_csv(p):
                    if r["event_id"] == body["event_id"]:
                        return r
        self.fail("no row")

    def test_first_click_gives_the_visitors_first_click(self):
        srv = self.start('model = "first_click"\n')
        srv.create(code="one_code", referrer_id="r1")
        srv.create(code="two_code", referrer_id="r2")
        for code in ("one_code", "two_code"):
            self.assertEqual(srv.get("/" + code, headers={"Cookie": "rg_vid=" + VISITOR})[0], 302)
        r = self.decide(srv, {"event_id": "s", "type": "lead", "visitor_id": VISITOR})
        self.assertEqual((r["referrer_id"], r["method"]), ("r1", "visitor"))

    def test_a_click_younger_than_min_click_age_holds_the_sale(self):
        srv = self.start("min_click_age_s = 3600\n")
        srv.create(code="young_code", referrer_id="r1")
        _, h, _ = srv.get("/young_code")
        cid = dict(query_of(h["location"]))["rg_click"]
        r = self.decide(srv, {"event_id": "s", "type": "sale", "order_id": "o",
                              "amount_minor": 100, "click_id": cid})
        self.assertEqual((r["status"], r["reason"], r["reward_minor"]),
                         ("held", "click_too_recent", "0"))

    def test_the_window_ends_a_click_id_s_reach(self):
        srv = self.start("window_days = 1\n")
        srv.create(code="win_code", referrer_id="r1")
        _, h, _ = srv.get("/win_code")
        cid = dict(query_of(h["location"]))["rg_click"]
        dump = subprocess.run([BIN, "log", "dump", "--data-dir", srv.data_dir],
                              capture_output=True, text=True, timeout=60).stdout
        click = [json.loads(l) for l in dump.splitlines() if '"type":"click"' in l][0]
        t = datetime.datetime.fromisoformat(click["ts"].replace("Z", "+00:00")).timestamp()
        inside = rfc3339((int(t) + 86400) * 1e6)       # the window's last second
        outside = rfc3339((int(t) + 86400 + 1) * 1e6)  # the second after it
        for event_id, at in (("in", inside), ("out", outside)):
            status, _, _ = srv.api("POST", "/api/v1/events",
                                   {"event_id": event_id, "type": "lead", "click_id": cid,
                                    "occurred_at": at}, token=EVENTS_TOKEN)
            self.assertEqual(status, 201)
        srv.stop()
        compact(srv.data_dir, srv.config_path)
        rows = {}
        daily = os.path.join(srv.data_dir, "rollups", "daily")
        for d in os.listdir(daily):
            p = os.path.join(daily, d, "events.csv")
            if os.path.exists(p):
                rows.update({r["event_id"]: r for r in read_csv(p)})
        self.assertEqual(rows["in"]["method"], "click_id")
        self.assertEqual(rows["out"]["status"], "unattributed")


if __name__ == "__main__":
    unittest.main()


class CampaignsAndPayouts(unittest.TestCase):
    """A campaign's own rules apply to what occurs after the change; payouts
    are idempotent and bounded by the payable balance; a refund after a
    payout leaves a negative balance for the next one."""

    def test_campaign_rules_and_payouts(self):
        srv = Server(config=RULES, env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN})
        self.addCleanup(srv.cleanup)
        srv.create(code="camp_code", referrer_id="eve", campaign="spring")

        def sale(event_id, amount, order):
            status, _, reply = srv.api("POST", "/api/v1/events",
                                       {"event_id": event_id, "type": "sale", "order_id": order,
                                        "amount_minor": amount, "code": "camp_code"},
                                       token=EVENTS_TOKEN)
            self.assertEqual(status, 201, reply)

        def rewards():
            compact(srv.data_dir, srv.config_path)
            rows = read_csv(os.path.join(srv.data_dir, "rollups", "rewards.csv"))
            return {r["referrer_id"]: r for r in rows}["eve"]

        status, _, got = srv.api("GET", "/api/v1/campaigns/spring/rewards")
        self.assertEqual((status, got["source"], got["sale_percent"]), (200, "default", 10.0))
        sale("before", 1000, "o1")                       # 10 %: 100
        status, _, got = srv.api("PUT", "/api/v1/campaigns/spring/rewards",
                                 {"sale_percent": 20, "sale_flat_minor": 5})
        self.assertEqual((status, got["source"], got["sale_percent"], got["lead_minor"]),
                         (200, "campaign", 20.0, 100))   # missing keys: the defaults
        self.assertEqual(srv.api("PUT", "/api/v1/campaigns/spring/rewards",
                                 {"sale_percent": 101})[0], 400)
        self.assertEqual(srv.api("PUT", "/api/v1/campaigns/spring/rewards",
                                 {"bonus": 1})[2]["error"]["field"], "bonus")
        self.assertEqual(srv.api("PUT", "/api/v1/campaigns/a%20b/rewards", {})[0], 400)
        sale("after", 1000, "o2")                        # 20 % + 5: 205
        self.assertEqual(srv.api("DELETE", "/api/v1/campaigns/spring/rewards")[0], 204)
        self.assertEqual(srv.api("DELETE", "/api/v1/campaigns/spring/rewards")[0], 404)
        sale("deleted", 1000, "o3")                      # the defaults again: 100
        eve = rewards()
        self.assertEqual((eve["reward_minor"], eve["payable_minor"]), ("405", "405"))

        pay = lambda pid, amount: srv.api("POST", "/api/v1/referrers/eve/payouts",
                                          {"payout_id": pid, "amount_minor": amount})
        status, _, got = pay("p1", 400)
        self.assertEqual((status, got["replayed"]), (201, False))
        status, _, got = pay("p1", 400)
        self.assertEqual((status, got["replayed"]), (201, True))
        self.assertEqual(pay("p1", 401)[2]["error"]["field"], "payout_id")
        status, _, got = pay("p2", 6)                    # 5 left
        self.assertEqual((status, got["error"]["field"]), (409, "amount_minor"))
        self.assertEqual(pay("p3", 0)[0], 400)
        self.assertEqual(srv.api("POST", "/api/v1/referrers/eve/payouts", {"payout_id": "x"},
                                 token=EVENTS_TOKEN)[0], 403)
        eve = rewards()
        self.assertEqual((eve["paid_minor"], eve["balance_minor"]), ("400", "5"))
        # A full refund of "after" once paid: -205, a negative balance.
        status, _, _ = srv.api("POST", "/api/v1/events",
                               {"event_id": "refund-after", "type": "refund", "order_id": "o2",
                                "amount_minor": 1000}, token=EVENTS_TOKEN)
        self.assertEqual(status, 201)
        eve = rewards()
        self.assertEqual((eve["reward_minor"], eve["payable_minor"], eve["paid_minor"],
                          eve["balance_minor"]), ("200", "200", "400", "-200"))
        self.assertEqual(pay("p4", 1)[0], 409)
        # Recomputing from scratch keeps every past decision and payout.
        before = open(os.path.join(srv.data_dir, "rollups", "rewards.csv"), "rb").read()
        srv.stop()
        shutil.rmtree(os.path.join(srv.data_dir, "rollups"))
        compact(srv.data_dir, srv.config_path)
        self.assertEqual(open(os.path.join(srv.data_dir, "rollups", "rewards.csv"), "rb").read(),
                         before)
        # The payout index survives a restart: p1 is still a replay.
        again = Server(config=RULES, data_dir=srv.data_dir)
        self.addCleanup(again.cleanup)
        status, _, got = again.api("POST", "/api/v1/referrers/eve/payouts",
                                   {"payout_id": "p1", "amount_minor": 400})
        self.assertEqual((status, got.get("replayed")), (201, True), got)
