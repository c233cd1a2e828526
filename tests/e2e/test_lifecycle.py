"""Start-up, configuration errors, the admin token and shutdown (SPEC §1)."""
import os
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Server, read_until_close, status_of


def run(args, config=None, timeout=10):
    with tempfile.TemporaryDirectory() as d:
        if config is not None:
            path = os.path.join(d, "c.toml")
            with open(path, "w") as f:
                f.write(config)
            args = [a.replace("@CONFIG@", path) for a in args]
        args = [a.replace("@DIR@", d) for a in args]
        return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout)


class CommandLine(unittest.TestCase):
    def test_version_and_help(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^refgate \d+\.\d+\.\d+")
        r = run(["help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("serve", r.stdout)

    def test_unknown_command_and_flag_exit_2(self):
        self.assertEqual(run(["frobnicate"]).returncode, 2)
        self.assertEqual(run(["serve", "--colour", "red"]).returncode, 2)
        self.assertEqual(run(["serve", "--listen"]).returncode, 2)

    def test_invalid_config_exits_2_naming_the_key(self):
        for config, key in (("[server]\nlisten_addr = \"x\"\n", "server.listen_addr"),
                            ("[server]\nthreads = \"two\"\n", "server.threads"),
                            ("[server]\nadmin_listen = \"nowhere:1\"\n", "server.admin_listen"),
                            ("[redirect]\nstatus = 200\n", "redirect.status"),
                            ("[clicklog]\ndurability = \"maybe\"\n", "clicklog.durability")):
            r = run(["serve", "--config", "@CONFIG@", "--data-dir", "@DIR@/data"], config)
            self.assertEqual(r.returncode, 2, config)
            self.assertIn(key, r.stderr)

    def test_bad_listen_flag_exits_2(self):
        r = run(["serve", "--data-dir", "@DIR@/data", "--listen", "127.0.0.1:99999"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--listen", r.stderr)

    def test_missing_config_file_exits_2(self):
        r = run(["serve", "--config", "/nonexistent/refgate.toml"])
        self.assertEqual(r.returncode, 2)


class Lifecycle(unittest.TestCase):
    def test_generated_token_is_private_and_stable(self):
        srv = Server(token=None)
        try:
            path = os.path.join(srv.data_dir, "admin.token")
            self.assertIn(path, srv.text())
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode, 0o600)
            token = open(path).read().strip()
            self.assertGreaterEqual(len(token), 32)
            self.assertNotIn(token, srv.text())  # printed where, never what
            srv.token = token
            self.assertEqual(srv.api("GET", "/api/v1/codes")[0], 200)
            self.assertEqual(srv.stop(), 0)
            again = Server(token=None, data_dir=srv.data_dir)
            try:
                again.token = token
                self.assertEqual(again.api("GET", "/api/v1/codes")[0], 200)
            finally:
                again.stop()
        finally:
            srv.cleanup()

    def test_codes_survive_a_restart(self):
        srv = Server()
        try:
            srv.create(code="durable1", referrer_id="r")
            self.assertEqual(srv.stop(), 0)
            again = Server(data_dir=srv.data_dir)
            try:
                self.assertEqual(again.get("/durable1")[0], 302)
            finally:
                again.stop()
        finally:
            srv.cleanup()

    def test_sigterm_exits_0_closing_idle_and_finishing_open_connections(self):
        srv = Server()
        try:
            srv.create(code="term1", referrer_id="r")
            idle = srv.connect()
            idle.sendall(b"GET /term1 HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla/5.0\r\n\r\n")
            time.sleep(0.2)
            self.assertEqual(status_of(idle.recv(65536)), 302)
            partial = srv.connect()
            partial.sendall(b"GET /term1 HTTP/1.1\r\nHost: t\r\n")  # headers not finished
            time.sleep(0.1)
            t0 = time.time()
            srv.proc.send_signal(signal.SIGTERM)
            partial.sendall(b"User-Agent: Mozilla/5.0\r\n\r\n")  # finish: still answered
            got = read_until_close(partial, 5)  # returns once the server closes
            self.assertEqual(status_of(got), 302)
            self.assertLess(time.time() - t0, 4)
            self.assertEqual(read_until_close(idle, 5), b"")  # idle one is closed
            self.assertEqual(srv.proc.wait(10), 0)
            self.assertLess(time.time() - t0, 10)
            with self.assertRaises(OSError):
                socket.create_connection(srv.public, timeout=1).close()
        finally:
            srv.cleanup()

    def test_sigint_also_stops_cleanly(self):
        srv = Server()
        try:
            self.assertEqual(srv.stop(signal.SIGINT), 0)
            self.assertIn("stopped", srv.text())
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
