"""Rollups of SPEC §5 from real traffic: exact counts in the CSV files, the
stats route, compaction beside a running server, and DuckDB reading the
files as they are."""
import csv
import io
import json
import os
import shutil
import subprocess
import unittest

from harness import BIN, BROWSER, Server, duckdb_read



def compact(data_dir):
    r = subprocess.run([BIN, "compact", "--data-dir", data_dir], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class Rollups(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        srv = cls.srv
        srv.create(code="roll_a1", referrer_id="alice", utm={"source": "referral"})
        srv.create(code="roll_a2", referrer_id="alice")
        srv.create(code="roll_b1", referrer_id="bob")
        vid = "returning0000000000000"
        hostile = ["a%2Cb", "say%20%22hi%22", "two%0Alines", "%3DHYPERLINK(%22x%22)", "%2B1", "-2",
                   "%40SUM(A1)"]
        srv.get("/roll_a1")                                            # new visitor
        srv.get("/roll_a1", headers={"Cookie": "rg_vid=" + vid})       # returning
        srv.get("/roll_a1", headers={"Cookie": "rg_vid=" + vid})       # same one again
        srv.get("/roll_a1", ua="Slackbot-LinkExpanding 1.0")           # bot
        srv.get("/roll_a1", method="HEAD")                             # bot
        for h in hostile:
            srv.get("/roll_a2?utm_source=%s&utm_medium=email" % h)
        srv.get("/roll_b1?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
        srv.get("/roll_b1?rg_notrack=1")                               # not recorded
        srv.get("/nosuchcode")                                         # orphan
        cls.out = compact(srv.data_dir)                                # while serve runs
        cls.rollups = os.path.join(srv.data_dir, "rollups")
        cls.days = sorted(os.listdir(os.path.join(cls.rollups, "daily")))
        cls.hostile = ["a,b", 'say "hi"', "two\nlines", "'=HYPERLINK(\"x\")", "'+1", "'-2",
                       "'@SUM(A1)"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_csv_rows_end_with_crlf(self):
        # RFC 4180; quoted line breaks inside a field stay as the visitor sent them.
        for rel in (os.path.join("daily", self.days[0], "codes.csv"),
                    os.path.join("daily", self.days[0], "channels.csv"), "referrers.csv"):
            with open(os.path.join(self.rollups, rel), "rb") as f:
                data = f.read()
            self.assertTrue(data.endswith(b"\r\n"), rel)
            self.assertEqual(data.count(b"\r\n"), len(read_csv(os.path.join(self.rollups, rel))) + 1,
                             rel)

    def test_codes_csv_exact_counts(self):
        self.assertEqual(len(self.days), 1)  # all today (UTC)
        rows = read_csv(os.path.join(self.rollups, "daily", self.days[0], "codes.csv"))
        by_code = {r["code"]: r for r in rows}
        self.assertEqual(set(by_code), {"roll_a1", "roll_a2", "roll_b1"})  # no orphan row
        a1 = by_code["roll_a1"]
        self.assertEqual((a1["clicks"], a1["unique_visitors"], a1["new_visitors"], a1["bot_clicks"]),
                         ("3", "2", "1", "2"))
        a2 = by_code["roll_a2"]
        self.assertEqual((a2["clicks"], a2["unique_visitors"], a2["new_visitors"]), ("7", "7", "7"))
        self.assertEqual(by_code["roll_b1"]["clicks"], "1")
        self.assertEqual(a1["date"], self.days[0][len("date="):])

    def test_channels_round_trip_through_a_csv_parser(self):
        rows = read_csv(os.path.join(self.rollups, "daily", self.days[0], "channels.csv"))
        sources = sorted(r["utm_source"] for r in rows if r["code"] == "roll_a2")
        self.assertEqual(sources, sorted(self.hostile))
        b1 = [r for r in rows if r["code"] == "roll_b1"][0]
        self.assertEqual((b1["utm_source"], b1["utm_medium"], b1["utm_campaign"], b1["clicks"]),
                         ("newsletter", "email", "spring", "1"))
        a1 = [r for r in rows if r["code"] == "roll_a1"]
        self.assertEqual([(r["utm_source"], r["clicks"]) for r in a1], [("referral", "3")])

    def test_referrers_csv(self):
        rows = {r["referrer_id"]: r for r in read_csv(os.path.join(self.rollups, "referrers.csv"))}
        alice = rows["alice"]
        self.assertEqual((alice["codes"], alice["clicks"], alice["unique_visitors"],
                          alice["bot_clicks"]), ("2", "10", "9", "2"))
        self.assertRegex(alice["first_click_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(rows["bob"]["clicks"], "1")

    def test_manifest_lists_every_file(self):
        with open(os.path.join(self.rollups, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["schema_version"], 2)
        self.assertEqual(m["through_seq"], 17)  # every record: the orphan, the 3 code changes
        for rel in m["files"]:
            self.assertTrue(os.path.exists(os.path.join(self.rollups, rel)), rel)
        self.assertIn("referrers.csv", m["files"])

    def test_stats_route_agrees(self):
        status, _, body = self.srv.api("GET", "/api/v1/referrers/alice/stats")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["clicks"], body["unique_visitors"], body["bot_clicks"]), (10, 9, 2))
        self.assertEqual(len(body["by_day"]), 1)
        self.assertEqual({c["code"]: c["clicks"] for c in body["by_code"]},
                         {"roll_a1": 3, "roll_a2": 7})
        self.assertEqual(len(body["by_channel"]), 8)
        day = self.days[0][len("date="):]
        status, _, body = self.srv.api("GET", "/api/v1/referrers/alice/stats?from=2020-01-01&to=2020-01-31")
        self.assertEqual((status, body["clicks"], body["by_day"]), (200, 0, []))
        status, _, body = self.srv.api("GET", "/api/v1/referrers/nobody/stats?from=%s&to=%s" % (day, day))
        self.assertEqual((status, body["clicks"]), (200, 0))
        for q, field in (("from=2026-13-01", "from"), ("from=2026-02-01&to=2026-01-01", "from"),
                         ("from=2020-01-01&to=2026-01-01", "from"), ("x=1", "x")):
            status, _, body = self.srv.api("GET", "/api/v1/referrers/alice/stats?" + q)
            self.assertEqual(status, 400, q)
            self.assertEqual(body["error"]["field"], field, q)

    def test_program_stats_add_up_the_referrers(self):
        day = self.days[0][len("date="):]
        status, _, body = self.srv.api("GET", "/api/v1/stats?from=%s&to=%s" % (day, day))
        self.assertEqual(status, 200, body)
        with open(os.path.join(self.rollups, "referrers.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(body["clicks"], sum(int(r["clicks"]) for r in rows))
        self.assertEqual(body["bot_clicks"], sum(int(r["bot_clicks"]) for r in rows))
        self.assertEqual([d["date"] for d in body["by_day"]], [day])
        self.assertEqual(body["by_day"][0]["clicks"], body["clicks"])
        by_ref = {r["referrer_id"]: r for r in body["by_referrer"]}
        self.assertEqual(set(by_ref), {r["referrer_id"] for r in rows})
        self.assertEqual((by_ref["alice"]["clicks"], by_ref["alice"]["unique_visitors"]), (10, 9))
        clicks = [r["clicks"] for r in body["by_referrer"]]
        self.assertEqual(clicks, sorted(clicks, reverse=True))
        self.assertGreaterEqual(len(body["by_channel"]), 8)
        # Every day of the range has its row, empty ones too (a chart's days are even).
        status, _, body = self.srv.api("GET", "/api/v1/stats?from=2020-01-01&to=2020-01-03")
        self.assertEqual((status, body["clicks"], len(body["by_day"])), (200, 0, 3))
        status, _, body = self.srv.api("GET", "/api/v1/stats?from=2026-13-01")
        self.assertEqual((status, body["error"]["field"]), (400, "from"))

    def test_rerun_is_a_no_op(self):
        before = open(os.path.join(self.rollups, "referrers.csv")).read()
        self.assertIn("0 records rolled up", compact(self.srv.data_dir))
        self.assertEqual(open(os.path.join(self.rollups, "referrers.csv")).read(), before)

    def test_duckdb_reads_the_files_as_they_are(self):
        got = duckdb_read(self.rollups)
        codes = {row["code"]: row for row in got["codes"]}
        self.assertEqual(int(codes["roll_a1"]["clicks"]), 3)
        self.assertEqual(int(codes["roll_a1"]["bot_clicks"]), 2)
        self.assertEqual(str(codes["roll_a1"]["date"]), self.days[0][len("date="):])  # hive column
        self.assertEqual({c["utm_source"] for c in got["channels"] if c["code"] == "roll_a2"},
                         set(self.hostile))
        self.assertEqual({r["referrer_id"]: int(r["clicks"]) for r in got["per_referrer"]},
                         {"alice": 10, "bob": 1})
        self.assertEqual(len(got["referrers"]), 2)


if __name__ == "__main__":
    unittest.main()
