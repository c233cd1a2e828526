"""The click log of SPEC §4 through the real binary: crash safety under load,
clean shutdown in every durability mode, dump and verify."""
import ctypes
import ctypes.util
import http.client
import json
import os
import re
import struct
import signal
import subprocess
import threading
import time
import unittest
from urllib.parse import parse_qs, urlsplit

from harness import BIN, BROWSER, Server

SPEC_KEYS = ["seq", "ts", "type", "code", "referrer_id", "click_id", "visitor_id", "new_visitor",
             "bot", "method", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
             "referer", "user_agent", "ip", "status", "via"]  # via: SPEC §7


def log_cmd(data_dir, *args):
    return subprocess.run([BIN, "log", *args, "--data-dir", data_dir], capture_output=True,
                          text=True, timeout=60)


def dump(data_dir, *args, visits_only=True):
    """The records `log dump` prints; by default the visits only (clicks and
    orphans), without the code changes creating the codes wrote."""
    r = log_cmd(data_dir, "dump", *args)
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.splitlines()]
    return [o for o in records if not visits_only or o["type"] in ("click", "orphan")]


def hammer(srv, path, stop, received, errors):
    """Keep-alive GETs until stop; collects the click ids of complete redirects."""
    conn = http.client.HTTPConnection(*srv.public, timeout=5)
    try:
        while not stop.is_set():
            conn.request("GET", path, headers={"User-Agent": BROWSER})
            r = conn.getresponse()
            r.read()
            if r.status != 302:
                errors.append(r.status)
                return
            received.append(parse_qs(urlsplit(r.getheader("Location")).query)["rg_click"][0])
    except (OSError, http.client.HTTPException):
        pass  # the server was killed under us
    finally:
        conn.close()


class CrashSafety(unittest.TestCase):
    def test_sigkill_under_load_loses_no_acknowledged_click(self):
        srv = Server(config='[clicklog]\ndurability = "sync"\n')
        try:
            srv.create(code="crash1", referrer_id="r_crash")
            stop, received, errors = threading.Event(), [], []
            threads = [threading.Thread(target=hammer, args=(srv, "/crash1?utm_source=t%d" % i,
                                                            stop, received, errors))
                       for i in range(8)]
            for t in threads:
                t.start()
            time.sleep(1.5)
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(10)
            stop.set()
            for t in threads:
                t.join(10)
            self.assertEqual(errors, [])
            self.assertGreater(len(received), 100)  # the load was real
            print("crash test: %d redirects acknowledged before SIGKILL" % len(received))

            logged = {r["click_id"] for r in dump(srv.data_dir)}
            missing = [c for c in received if c not in logged]
            self.assertEqual(missing, [], "%d of %d acknowledged clicks missing"
                             % (len(missing), len(received)))
            self.assertEqual(log_cmd(srv.data_dir, "verify").returncode, 0)

            again = Server(data_dir=srv.data_dir)  # restarts cleanly, torn tail (if any) cut
            try:
                again.create(code="crash2", referrer_id="r")
                self.assertEqual(again.get("/crash2")[0], 302)
            finally:
                self.assertEqual(again.stop(), 0)
            v = log_cmd(srv.data_dir, "verify")
            self.assertEqual(v.returncode, 0, v.stdout)
            self.assertNotIn("INCOMPLETE", v.stdout)
            seqs = [r["seq"] for r in dump(srv.data_dir, visits_only=False)]
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)))  # dense
        finally:
            srv.cleanup()


class CleanShutdown(unittest.TestCase):
    def check_mode(self, durability):
        srv = Server(config='[clicklog]\ndurability = "%s"\ninterval_ms = 600000\n' % durability)
        try:
            srv.create(code="term1", referrer_id="r")
            for i in range(200):
                self.assertEqual(srv.get("/term1?i=%d" % i)[0], 302)
            t0 = time.time()
            self.assertEqual(srv.stop(signal.SIGTERM), 0)
            self.assertLess(time.time() - t0, 10)
            records = dump(srv.data_dir, visits_only=False)
            self.assertEqual([r["type"] for r in records], ["code"] + ["click"] * 200)
            self.assertEqual([r["seq"] for r in records], list(range(1, 202)))
        finally:
            srv.cleanup()

    def test_sigterm_loses_nothing_with_sync(self):
        self.check_mode("sync")

    def test_sigterm_loses_nothing_with_interval(self):
        self.check_mode("interval")

    def test_sigterm_loses_nothing_with_none(self):
        self.check_mode("none")


class ForwardedFor(unittest.TestCase):
    def test_a_second_forwarded_for_line_from_the_proxy_wins(self):
        srv = Server(config='[server]\ntrusted_proxies = ["127.0.0.0/8"]\n')
        try:
            srv.create(code="xff1", referrer_id="r")
            # The client's own line claims an address; the proxy appends the real one.
            raw = srv.raw(b"GET /xff1 HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla/5.0\r\n"
                          b"X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 203.0.113.9\r\n"
                          b"Connection: close\r\n\r\n")
            self.assertTrue(raw.startswith(b"HTTP/1.1 302"), raw[:100])
            srv.stop()
            self.assertEqual([r["ip"] for r in dump(srv.data_dir)], ["203.0.113.0"])
        finally:
            srv.cleanup()


def xxh3_64(data):
    """XXH3-64 from the libxxhash that refgate links (no Python package needed)."""
    lib = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
    lib.XXH3_64bits.restype = ctypes.c_uint64
    lib.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return lib.XXH3_64bits(data, len(data))


def framed(rec_type, seq, payload):
    """One record as src/clicklog/format.h lays it out."""
    body = struct.pack("<IBQ", len(payload), rec_type, seq) + payload
    return struct.pack("<Q", xxh3_64(body)) + body


class DumpAndVerify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config='[clicklog]\nsegment_bytes = 65536\n')
        cls.srv.create(code="dump1", referrer_id="cust_9", utm={"source": "code_src"})
        cls.srv.get("/dump1?utm_medium=email", headers={"Referer": "https://mail.example.org/",
                                                         "Cookie": "rg_vid=" + "v" * 22})
        cls.srv.get("/dump1", ua="Slackbot-LinkExpanding 1.0")
        cls.srv.get("/nosuch1?utm_source=lost")
        cls.srv.get("/dump1?rg_notrack=1")          # redirected, not recorded
        cls.srv.get("/dump1", ua=BROWSER + " \xe9")  # latin-1 byte: not UTF-8
        for i in range(400):                         # enough to fill several segments
            cls.srv.get("/dump1?i=%d" % i, ua=BROWSER + "x" * 400)
        cls.srv.stop()
        cls.records = dump(cls.srv.data_dir)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_records_have_the_spec_fields_in_order(self):
        for r in self.records:
            self.assertEqual(list(r.keys()), SPEC_KEYS)
        first = self.records[0]
        self.assertEqual(first["type"], "click")
        self.assertEqual(first["code"], "dump1")
        self.assertEqual(first["referrer_id"], "cust_9")
        self.assertEqual(first["visitor_id"], "v" * 22)
        self.assertFalse(first["new_visitor"])
        self.assertFalse(first["bot"])
        self.assertEqual(first["utm_source"], "code_src")
        self.assertEqual(first["utm_medium"], "email")
        self.assertEqual(first["referer"], "https://mail.example.org/")
        self.assertEqual(first["ip"], "127.0.0.0")
        self.assertEqual(first["status"], 302)
        self.assertRegex(first["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_bots_orphans_and_no_track(self):
        bot, orphan = self.records[1], self.records[2]
        self.assertTrue(bot["bot"])
        self.assertEqual(bot["visitor_id"], "")
        self.assertEqual(orphan["type"], "orphan")
        self.assertEqual(orphan["status"], 404)
        self.assertEqual(orphan["utm_source"], "lost")
        self.assertEqual(len(self.records), 404)  # the no-track visit is not there

    def test_invalid_utf8_is_replaced_in_the_dump(self):
        self.assertTrue(self.records[3]["user_agent"].endswith("\ufffd"))

    def test_from_seq(self):
        last = dump(self.srv.data_dir, visits_only=False)[-1]["seq"]
        self.assertGreater(last, 404)
        self.assertEqual([r["seq"] for r in dump(self.srv.data_dir, "--from-seq", str(last - 4),
                                                   visits_only=False)],
                         list(range(last - 4, last + 1)))
        self.assertEqual(dump(self.srv.data_dir, "--from-seq", str(last + 1)), [])
        self.assertEqual(log_cmd(self.srv.data_dir, "dump", "--from-seq", "x").returncode, 2)

    def test_verify_reports_each_damaged_range(self):
        clicks = os.path.join(self.srv.data_dir, "clicks")
        segs = sorted(os.listdir(clicks))
        self.assertGreater(len(segs), 2)
        self.assertEqual(log_cmd(self.srv.data_dir, "verify").returncode, 0)
        damaged = os.path.join(self.srv.dir, "damaged")
        subprocess.run(["cp", "-r", self.srv.data_dir, damaged], check=True)
        victim = os.path.join(damaged, "clicks", segs[0])
        with open(victim, "r+b") as f:
            f.seek(1000)
            b = f.read(1)
            f.seek(1000)
            f.write(bytes([b[0] ^ 0xFF]))
        r = log_cmd(damaged, "verify")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"DAMAGED: segment %s offset \d+ bytes \d+" % segs[0])
        after = dump(damaged)
        self.assertEqual(len(after), len(self.records) - 1)  # exactly one record skipped

    def test_an_ignorable_record_and_a_damaged_one_are_reported_and_passed(self):
        # A newer writer's segment after the last: a record of an unknown type
        # with the ignorable bit, one damaged record, then another ignorable one.
        data = os.path.join(self.srv.dir, "newer")
        subprocess.run(["cp", "-r", self.srv.data_dir, data], check=True)
        last = self.records[-1]["seq"]
        bad = bytearray(framed(0x80 | 0x33, last + 2, b"second"))
        bad[22] ^= 0x01  # a payload byte
        seg = framed(0x80 | 0x33, last + 1, b"first") + bytes(bad) + \
            framed(0x80 | 0x34, last + 3, b"third")
        with open(os.path.join(data, "clicks", "%020d.log" % (last + 1)), "wb") as f:
            f.write(seg)
        r = log_cmd(data, "verify")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(re.findall(r"^DAMAGED: segment %020d\.log offset %d bytes %d"
                                        % (last + 1, len(framed(0xb3, 0, b"first")), len(bad)),
                                        r.stdout, re.M)), 1, r.stdout)
        # The damaged record is also the gap in the sequence it leaves.
        self.assertIn("2 of unknown ignorable types), 1 damaged ranges, 1 gaps, 0 unreadable", r.stdout)
        r = log_cmd(data, "dump")
        self.assertEqual(r.returncode, 0)
        # Every record it knows (the clicks, the code changes), nothing else.
        self.assertEqual(len(r.stdout.splitlines()), len(dump(self.srv.data_dir, visits_only=False)))
        self.assertEqual(r.stderr.count("unknown ignorable type skipped"), 2, r.stderr)
        self.assertEqual(r.stderr.count("damaged bytes"), 1, r.stderr)
        out = subprocess.run([BIN, "compact", "--data-dir", data], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("through seq %d;" % (last + 3), out.stdout)
        self.assertIn("passed over 2 records of unknown types, 0 undecodable clicks, "
                      "1 damaged ranges", out.stdout)


if __name__ == "__main__":
    unittest.main()
