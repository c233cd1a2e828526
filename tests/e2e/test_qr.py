"""QR codes of SPEC §7, against the real binary: what refgate draws is read
back by an independent decoder (zbarimg, from zbar-tools; SVG rasterised by
rsvg-convert, from librsvg2-bin), and the decoded URL is followed through a
redirect whose click record says "via": "qr"."""
import http.client
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib
from urllib.parse import parse_qs, urlsplit

from harness import BIN, Server


def decode(image, suffix):
    """The texts zbarimg reads in `image` (bytes of a PNG or an SVG)."""
    d = tempfile.mkdtemp(prefix="refgate-qr-")
    try:
        path = os.path.join(d, "code" + suffix)
        with open(path, "wb") as f:
            f.write(image)
        if suffix == ".svg":
            png = os.path.join(d, "code.png")
            subprocess.run(["rsvg-convert", path, "-o", png], check=True, timeout=60)
            path = png
        # -q: the texts only; stderr carries unrelated D-Bus noise.
        r = subprocess.run(["zbarimg", "-q", "--raw", path], capture_output=True, text=True,
                           timeout=60)
        return r.stdout.split()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def png_header(data):
    """(width, height, bit depth, colour type) from a PNG's IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    w, h, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]
    return w, h, depth, colour


class QrCodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.code = cls.srv.create(referrer_id="alice", code="qrAlice1",
                                  target_url="https://example.com/shop?x=1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def qr(self, query="", headers=None, method="GET", token=None):
        h = {"Authorization": "Bearer " + (token if token is not None else self.srv.token)}
        h.update(headers or {})
        c = http.client.HTTPConnection(*self.srv.admin_addr, timeout=30)
        try:
            c.request(method, "/api/v1/codes/qrAlice1/qr" + query, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def expected_url(self):
        return self.code["short_url"] + "?qr=1"

    def test_png_decodes_to_the_short_link_with_qr_at_every_level_and_size(self):
        for ecc in "LMQH":
            for size in (128, 512, 2048):
                status, headers, body = self.qr(f"?format=png&size={size}&ecc={ecc}")
                self.assertEqual(status, 200, body[:200])
                self.assertEqual(headers["content-type"], "image/png")
                self.assertEqual(png_header(body), (size, size, 1, 0))
                self.assertEqual(decode(body, ".png"), [self.expected_url()], (ecc, size))

    def test_svg_is_the_default_and_decodes_once_rasterised(self):
        status, headers, body = self.qr()
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "image/svg+xml")
        text = body.decode()
        self.assertTrue(text.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="512" '
                                        'height="512"'), text[:120])
        self.assertEqual(decode(body, ".svg"), [self.expected_url()])
        for q in ("?format=svg&size=96&margin=0&ecc=H", "?margin=16&size=300"):
            status, _, body = self.qr(q)
            self.assertEqual(status, 200, body)
            self.assertEqual(decode(body, ".svg"), [self.expected_url()], q)

    def test_the_margin_is_a_quiet_zone_of_whole_modules(self):
        # margin 0 draws dark pixels at the edge of the symbol; 16 leaves a
        # wider light border than 4 at the same size.
        borders = {}
        for margin in (0, 4, 16):
            _, _, body = self.qr(f"?size=400&margin={margin}")
            first = body.decode().split('d="M', 1)[1].split(",", 1)[0]
            borders[margin] = int(first)
        self.assertLess(borders[0], borders[4])
        self.assertLess(borders[4], borders[16])

    def test_a_scan_followed_through_the_redirect_is_recorded_via_qr(self):
        _, _, body = self.qr("?format=png&size=256")
        [url] = decode(body, ".png")
        parts = urlsplit(url)
        status, headers, _ = self.srv.get(parts.path + "?" + parts.query)
        self.assertEqual(status, 302)
        location = headers["location"]
        self.assertTrue(location.startswith("https://example.com/shop?"), location)
        q = parse_qs(urlsplit(location).query)
        self.assertNotIn("qr", q, "qr=1 is not forwarded")
        self.assertEqual(q["x"], ["1"])
        self.assertEqual(q["ref"], ["qrAlice1"])
        # A plain visit of the link, for contrast; qr=2 is the visitor's own.
        self.assertEqual(self.srv.get(parts.path)[0], 302)
        _, headers, _ = self.srv.get(parts.path + "?qr=2")
        self.assertEqual(parse_qs(urlsplit(headers["location"]).query)["qr"], ["2"])
        r = subprocess.run([BIN, "log", "dump", "--data-dir", self.srv.data_dir],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        visits = [json.loads(line) for line in r.stdout.splitlines()]
        visits = [v for v in visits if v["type"] == "click" and v["code"] == "qrAlice1"]
        self.assertEqual([v["via"] for v in visits][-3:], ["qr", "link", "link"])
        self.assertEqual(visits[-3]["click_id"], q["rg_click"][0])

    def test_etag_answers_304_and_changes_with_what_is_drawn(self):
        status, headers, body = self.qr("?format=png&size=256")
        etag = headers["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        self.assertEqual(self.qr("?format=png&size=256")[1]["etag"], etag, "stable")
        for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
            status, h304, body304 = self.qr("?format=png&size=256", {"If-None-Match": inm})
            self.assertEqual(status, 304, inm)
            self.assertEqual(body304, b"")
            self.assertEqual(h304["etag"], etag)
            self.assertNotIn("content-length", h304)
        self.assertEqual(self.qr("?format=png&size=256", {"If-None-Match": '"other"'})[0], 200)
        tags = {etag}
        for q in ("?format=png&size=257", "?format=svg&size=256", "?format=png&size=256&ecc=H",
                  "?format=png&size=256&margin=5"):
            tags.add(self.qr(q)[1]["etag"])
        self.assertEqual(len(tags), 5, tags)

    def test_head_has_the_headers_and_no_body(self):
        status, headers, body = self.qr("?format=png", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertGreater(int(headers["content-length"]), 0)

    def test_bad_parameters_are_400_with_the_field(self):
        cases = [("?format=gif", "format"), ("?format=", "format"), ("?size=63", "size"),
                 ("?size=2049", "size"), ("?size=abc", "size"), ("?size=5e2", "size"),
                 ("?size=-512", "size"), ("?margin=17", "margin"), ("?margin=-1", "margin"),
                 ("?ecc=X", "ecc"), ("?ecc=m", "ecc"), ("?colour=red", "colour"),
                 ("?size=%zz", "query")]
        for q, field in cases:
            status, headers, body = self.qr(q)
            self.assertEqual(status, 400, q)
            err = json.loads(body)["error"]
            self.assertEqual(err["field"], field, (q, err))
        # Too small for the symbol: 64 px cannot hold 16 + 16 margin modules
        # around a 25-module symbol.
        status, headers, body = self.qr("?size=64&margin=16&ecc=H")
        self.assertEqual(status, 400, body)
        self.assertNotIn("etag", headers, "an error is no image to revalidate")
        self.assertEqual(json.loads(body)["error"]["field"], "size")

    def test_unknown_deleted_and_unauthorised(self):
        self.assertEqual(self.qr(token="wrong")[0], 401)
        c = http.client.HTTPConnection(*self.srv.admin_addr, timeout=30)
        for path in ("/api/v1/codes/nosuch12/qr", "/api/v1/codes/bad!code/qr"):
            c.request("GET", path, headers={"Authorization": "Bearer " + self.srv.token})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 404, path)
        c.close()
        self.srv.create(referrer_id="bob", code="qrGone01")
        self.assertEqual(self.srv.api("DELETE", "/api/v1/codes/qrGone01")[0], 204)
        status, _, _ = self.srv.api("GET", "/api/v1/codes/qrGone01/qr")
        self.assertEqual(status, 404)
        # A disabled code keeps its QR code: printed ones come back with it.
        self.srv.create(referrer_id="bob", code="qrOff001")
        self.assertEqual(self.srv.api("PATCH", "/api/v1/codes/qrOff001",
                                      {"status": "disabled"})[0], 200)
        c = http.client.HTTPConnection(*self.srv.admin_addr, timeout=30)
        c.request("GET", "/api/v1/codes/qrOff001/qr?format=png",
                  headers={"Authorization": "Bearer " + self.srv.token})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(decode(r.read(), ".png"),
                         [self.code["short_url"].replace("qrAlice1", "qrOff001") + "?qr=1"])
        c.close()


if __name__ == "__main__":
    unittest.main()
