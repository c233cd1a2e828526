"""Protocol limits and hostile input on the public listener (SPEC §2)."""
import os
import socket
import time
import unittest

from harness import Server, metric, read_response, read_until_close, status_of

CONFIG = """
[server]
header_timeout_ms = 1000
idle_timeout_ms = 1500
"""

GET = b"GET /limits1 HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla/5.0\r\n\r\n"


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config=CONFIG)
        cls.srv.create(code="limits1", referrer_id="r")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def tearDown(self):
        # Whatever a test threw at it, the server still answers others.
        self.assertEqual(self.srv.get("/limits1")[0], 302)
        self.assertIsNone(self.srv.proc.poll())

    def assertRefusedAndClosed(self, data, status):
        with self.srv.connect() as s:
            s.sendall(data)
            got = read_until_close(s, 5)
        self.assertEqual(status_of(got), status, got[:200])
        self.assertIn(b"Connection: close", got)
        return got

    def test_body_on_the_public_listener_is_400(self):
        self.assertRefusedAndClosed(
            b"GET /limits1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", 400)
        self.assertRefusedAndClosed(
            b"POST /limits1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi", 400)

    def test_transfer_encoding_is_400(self):
        self.assertRefusedAndClosed(
            b"GET /limits1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
        self.assertRefusedAndClosed(
            b"GET /limits1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n"
            b"Content-Length: 3\r\n\r\nabc", 400)

    def test_smuggled_second_request_is_never_answered(self):
        got = self.assertRefusedAndClosed(
            b"GET /limits1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /limits1 HTTP/1.1\r\nHost: t\r\n\r\n", 400)
        self.assertEqual(got.count(b"HTTP/1.1 "), 1)

    def test_headers_over_8_kib_are_431(self):
        big = b"X-Filler: " + b"a" * 9000 + b"\r\n"
        self.assertRefusedAndClosed(b"GET /limits1 HTTP/1.1\r\nHost: t\r\n" + big + b"\r\n", 431)
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(100))
        self.assertRefusedAndClosed(b"GET /limits1 HTTP/1.1\r\nHost: t\r\n" + many + b"\r\n", 431)

    def test_headers_far_over_the_limit_are_431_not_414(self):
        # Past 16 KiB Beast has consumed the request line before it gives up.
        for n in (16 * 1024, 17000, 30000, 70000):
            big = b"X-Filler: " + b"a" * n + b"\r\n"
            self.assertRefusedAndClosed(b"GET /limits1 HTTP/1.1\r\nHost: t\r\n" + big + b"\r\n", 431)

    def test_a_refused_connection_closes_however_slowly_the_client_drips(self):
        # The drain after a refusal is bounded in all (2 s), not per read.
        with self.srv.connect() as s:
            s.sendall(b"GET /limits1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            self.assertEqual(status_of(read_response(s)), 400)
            t0 = time.time()
            closed = False
            while not closed and time.time() - t0 < 15:
                try:
                    s.sendall(b"x")  # after the server's close, a reset comes back
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                time.sleep(0.5)  # the client's drip, well inside the old per-read 2 s
            self.assertTrue(closed, "the refused connection was kept open for 15 s")

    def test_headers_just_under_the_limit_are_fine(self):
        ok = b"X-Filler: " + b"a" * 7000 + b"\r\n"
        with self.srv.connect() as s:
            s.sendall(b"GET /limits1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + ok + b"\r\n")
            self.assertEqual(status_of(read_until_close(s, 5)), 302)

    def test_request_line_over_8_kib_is_414(self):
        self.assertRefusedAndClosed(b"GET /limits1?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
                                    414)
        # Even when the line never ends.
        self.assertRefusedAndClosed(b"GET /" + b"y" * 20000, 414)

    def test_malformed_requests_are_400(self):
        for junk in (b"HELLO\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /limits1 HTTP/1.1\r\nBad Header\r\n\r\n",
                     b"\x00\x01\x02\x03\r\n\r\n", b"GET /limits1 HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"):
            self.assertRefusedAndClosed(junk, 400)

    def test_random_bytes_never_hurt(self):
        rnd = os.urandom(256 * 1024)
        with self.srv.connect() as s:
            try:
                s.sendall(rnd)
            except (BrokenPipeError, ConnectionResetError):
                pass
            read_until_close(s, 5)

    def test_slow_header_client_is_disconnected(self):
        timed_out0 = metric(self.srv, "refgate_connections_timed_out_total")
        t0 = time.time()
        with self.srv.connect() as s:
            s.sendall(b"GET /limits1 HTTP/1.1\r\nHost: t\r\n")
            got = read_until_close(s, 6)
            elapsed = time.time() - t0
        self.assertEqual(got, b"")
        # header_timeout_ms = 1000 here, from the accept: not before, not long after.
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 4)
        self.assertGreaterEqual(
            metric(self.srv, "refgate_connections_timed_out_total") - timed_out0, 1)

    def test_trickling_client_is_disconnected_too(self):
        with self.srv.connect() as s:
            s.sendall(b"GET /limits1 HTTP/1.1\r\n")
            t0 = time.time()
            closed = False
            while time.time() - t0 < 5:
                try:
                    s.sendall(b"X: 1\r\n")
                    s.settimeout(0.3)
                    if s.recv(1) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
            self.assertTrue(closed)

    def test_idle_keep_alive_connection_closes(self):
        with self.srv.connect() as s:
            s.sendall(GET)
            time.sleep(0.2)
            first = s.recv(65536)
            self.assertEqual(status_of(first), 302)
            t0 = time.time()
            rest = read_until_close(s, 6)
            self.assertEqual(rest, b"")
            # idle_timeout_ms = 1500 here, from the response (~0.2 s before t0).
            self.assertGreaterEqual(time.time() - t0, 1.2)
            self.assertLess(time.time() - t0, 4)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        with self.srv.connect() as s:
            for _ in range(20):
                s.sendall(GET)
                self.assertEqual(status_of(read_response(s)), 302)

    def test_pipelined_requests_are_answered_in_order(self):
        reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla/5.0\r\n\r\n" % c
                        for c in (b"limits1", b"nosuch99", b"limits1", b"healthz"))
        reqs += b"GET /limits1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        with self.srv.connect() as s:
            s.sendall(reqs)
            got = read_until_close(s, 5)
        statuses = [int(part[:3]) for part in got.split(b"HTTP/1.1 ")[1:]]
        self.assertEqual(statuses, [302, 404, 302, 200, 302])

    def test_http10_closes_after_the_response(self):
        with self.srv.connect() as s:
            s.sendall(b"GET /limits1 HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n\r\n")
            got = read_until_close(s, 5)
        self.assertEqual(status_of(got), 302)

    def test_many_concurrent_connections(self):
        socks = []
        try:
            for _ in range(300):
                socks.append(self.srv.connect())
            for s in socks:
                s.sendall(GET)
            for s in socks:
                self.assertEqual(status_of(read_response(s)), 302)
        finally:
            for s in socks:
                s.close()


class AdminFraming(unittest.TestCase):
    def test_admin_refuses_transfer_encoding_and_oversized_lines(self):
        srv = Server()
        try:
            def send(data):
                with socket.create_connection(srv.admin_addr, timeout=5) as s:
                    s.sendall(data)
                    return read_until_close(s, 5)
            auth = b"Authorization: Bearer " + srv.token.encode() + b"\r\n"
            got = send(b"POST /api/v1/codes HTTP/1.1\r\nHost: t\r\n" + auth +
                       b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"3\r\n{}\n\r\n0\r\n\r\n")
            self.assertEqual(status_of(got), 400)
            self.assertIn(b'"error"', got)
            got = send(b"GET /api/v1/codes?" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
            self.assertEqual(status_of(got), 414)
            # Every ambiguous framing: 400, the error shape, and a close (so
            # nothing after it is read as a second request).
            body = b'{"code":"smug1","referrer_id":"r"}'
            head = b"POST /api/v1/codes HTTP/1.1\r\nHost: t\r\n" + auth + \
                b"Content-Type: application/json\r\n"
            smuggled = b"GET /api/v1/codes/smug1 HTTP/1.1\r\nHost: t\r\n" + auth + b"\r\n"
            for framing in (
                    b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body),
                    b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n" % len(body),
                    b"Transfer-Encoding: chunked, gzip\r\n",
                    b"Transfer-Encoding: gzip\r\n",
                    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                    b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body) + 5),
                    b"Content-Length: %d, %d\r\n" % (len(body), len(body) + 5)):
                with self.subTest(framing=framing):
                    got = send(head + framing + b"\r\n" + body + smuggled)
                    self.assertEqual(status_of(got), 400, got[:200])
                    self.assertIn(b'"error"', got)
                    self.assertEqual(got.count(b"HTTP/1.1 "), 1)  # closed after it
            # Nothing was created by any of them.
            self.assertEqual(srv.api("GET", "/api/v1/codes/smug1")[0], 404)
            self.assertEqual(srv.api("GET", "/healthz")[0], 200)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
