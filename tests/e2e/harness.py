"""Starts the real refgate binary on free loopback ports and talks to it.

Every request here goes to 127.0.0.1 only, with bounded counts and timeouts.
"""
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("REFGATE_BIN", os.path.join(HERE, "../../build/refgate"))
TOKEN = "e2e-admin-token-0123456789abcdef"
BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0 Safari/537.36")

DEFAULT_CONFIG = """
[redirect]
default_target = "https://example.com/welcome"
allowed_hosts = ["example.com", "*.example.com"]
[rollup]
interval_s = 0
[admin]
max_auth_failures = 0   # the suites send many wrong tokens on purpose
"""


class Server:
    """A running `refgate serve` with its own data directory."""

    def __init__(self, config=DEFAULT_CONFIG, env=None, data_dir=None, token=TOKEN):
        self.dir = tempfile.mkdtemp(prefix="refgate-e2e-")
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.config_path = os.path.join(self.dir, "refgate.toml")
        with open(self.config_path, "w") as f:
            f.write(config)
        e = dict(os.environ)
        e.pop("REFGATE_ADMIN_TOKEN", None)
        e.pop("REFGATE_EVENTS_TOKEN", None)
        if token:
            e["REFGATE_ADMIN_TOKEN"] = token
        e.update(env or {})
        self.token = token
        self.output = []
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", self.config_path, "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e)
        self._lines = queue.Queue()
        self._eof = False
        threading.Thread(target=self._pump, daemon=True).start()
        self.public = self._address("public listening on ")
        self.admin_addr = self._address("admin listening on ")

    def _pump(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            self.output.append(line)
            self._lines.put(line)
        self._lines.put("")

    def _readline(self, timeout):
        try:
            return self._lines.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def _address(self, prefix):
        end = time.time() + 20
        while time.time() < end:
            line = self._readline(end - time.time())
            if line is None or line == "":
                break
            if line.startswith(prefix):
                host, port = line[len(prefix):].split()[0].rsplit(":", 1)
                return (host, int(port))
        raise RuntimeError("refgate did not start:\n" + "".join(self.output))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        end = time.time() + 5
        while not self._eof and self._readline(end - time.time()) not in (None, ""):
            pass
        self._eof = True
        return self.proc.returncode

    def text(self):
        return "".join(self.output)

    def cleanup(self):
        self.stop()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- admin API -------------------------------------------------------
    def api(self, method, path, body=None, token=None, headers=None, raw_body=None):
        h = {"Authorization": "Bearer " + (token if token is not None else self.token)}
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c = http.client.HTTPConnection(*self.admin_addr, timeout=30)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read().decode()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
        finally:
            c.close()

    def create(self, **fields):
        status, _, body = self.api("POST", "/api/v1/codes", fields)
        assert status == 201, (status, body)
        return body

    # --- public listener --------------------------------------------------
    def get(self, path, headers=None, method="GET", ua=BROWSER):
        h = {"User-Agent": ua} if ua is not None else {}
        h.update(headers or {})
        c = http.client.HTTPConnection(*self.public, timeout=10)
        try:
            c.request(method, path, headers=h)
            r = c.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            c.close()

    def connect(self, timeout=10):
        s = socket.create_connection(self.public, timeout=timeout)
        return s

    def raw(self, data, timeout=5):
        """Sends bytes on a new connection; returns all bytes until close or timeout."""
        with self.connect(timeout) as s:
            s.sendall(data)
            return read_until_close(s, timeout)


def metric(srv, name):
    """The value of a counter or gauge (no labels) in /metrics."""
    status, _, text = srv.api("GET", "/metrics", token="")
    assert status == 200, status
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    assert m, name
    return int(m.group(1))


def read_until_close(s, timeout):
    s.settimeout(timeout)
    chunks = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def read_response(s, timeout=10):
    """Bytes from s until the end of one response's headers, or close."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def status_of(response_bytes):
    """The status code of the first response in raw bytes (0 when none)."""
    if not response_bytes.startswith(b"HTTP/1.1 "):
        return 0
    return int(response_bytes[9:12])


def query_of(location):
    from urllib.parse import urlsplit, parse_qsl
    return parse_qsl(urlsplit(location).query, keep_blank_values=True)


BUILD_DIR = os.environ.get("REFGATE_BUILD_DIR", os.path.join(HERE, "../../build"))


def node_package(name, module):
    """BUILD_DIR/<name>, holding tests/e2e/<name>'s files and its npm packages
    (from its lockfile when it has one), installed the first time; `module`
    is the package whose presence says they are there."""
    assert shutil.which("node"), "node is needed (scripts/setup.sh installs it)"
    src, dest = os.path.join(HERE, name), os.path.join(BUILD_DIR, name)
    os.makedirs(dest, exist_ok=True)
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), dest)
    if not os.path.isdir(os.path.join(dest, "node_modules", module)):
        ci = os.path.exists(os.path.join(src, "package-lock.json"))
        subprocess.run(["npm", "ci" if ci else "install", "--no-audit", "--no-fund", "--silent"],
                       cwd=dest, check=True, timeout=300)
    return dest


def duckdb_read(rollups):
    """What DuckDB reads from the rollup files as they are (duckdb/read_rollups.mjs),
    installing @duckdb/node-api the first time."""
    d = node_package("duckdb", "@duckdb/node-api")
    r = subprocess.run(["node", os.path.join(d, "read_rollups.mjs"), rollups],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def compact(data_dir, config_path):
    """Runs `refgate compact` once; its output."""
    r = subprocess.run([BIN, "compact", "--config", config_path, "--data-dir", data_dir],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout
