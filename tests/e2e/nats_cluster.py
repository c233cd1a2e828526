"""A real 3-server NATS JetStream cluster on loopback for the cluster tests
(SPEC §8): `nats-server -js` processes with routes to each other, each with
its own store directory, stopped by PID. Ports are drawn free from the
kernel; a server that cannot bind its port (taken between the draw and its
start) makes the whole cluster start again on new ports, and a port still
taken after that is an error, never a server shared with someone else."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

SERVERS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class NatsCluster:
    def __init__(self, servers=SERVERS):
        assert shutil.which("nats-server"), "nats-server is needed (scripts/test.sh installs it)"
        self.dir = tempfile.mkdtemp(prefix="refgate-nats-")
        self.n = servers
        self.procs = [None] * servers
        for attempt in range(3):
            self.client_ports = [free_port() for _ in range(servers)]
            self.route_ports = [free_port() for _ in range(servers)]
            self.http_ports = [free_port() for _ in range(servers)]
            if self._start_all():
                return
            self.kill_all()
        raise RuntimeError("nats-server did not start on free ports:\n" + self.logs())

    def urls(self, which=None):
        return ["nats://127.0.0.1:%d" % self.client_ports[i] for i in (which or range(self.n))]

    def _config(self, i):
        routes = ", ".join("nats://127.0.0.1:%d" % p
                           for j, p in enumerate(self.route_ports) if j != i)
        return """
server_name: n%d
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
jetstream { store_dir: "%s" }
cluster { name: refgate_test, listen: 127.0.0.1:%d, routes: [%s] }
""" % (i, self.client_ports[i], self.http_ports[i], os.path.join(self.dir, "store%d" % i), self.route_ports[i],
       routes)

    def start(self, i):
        """Starts server i (again, on its ports and store) unless it runs."""
        if self.procs[i] is not None and self.procs[i].poll() is None:
            return
        conf = os.path.join(self.dir, "n%d.conf" % i)
        with open(conf, "w") as f:
            f.write(self._config(i))
        log = open(os.path.join(self.dir, "n%d.log" % i), "ab")
        self.procs[i] = subprocess.Popen(["nats-server", "-c", conf], stdout=log,
                                         stderr=subprocess.STDOUT)
        log.close()

    def _start_all(self):
        for i in range(self.n):
            self.start(i)
        return all(self.wait_listening(i) for i in range(self.n))

    def wait_listening(self, i, timeout=30):
        """True once server i accepts clients; False if it exited (its port taken)."""
        end = time.time() + timeout
        while time.time() < end:
            if self.procs[i].poll() is not None:
                return False
            if port_open(self.client_ports[i]):
                return True
            time.sleep(0.02)
        return False

    def stream_leader(self, stream):
        """The index of the server leading `stream`, by the servers' monitoring
        (/jsz), or None while none says."""
        for i in range(self.n):
            if self.procs[i] is None or self.procs[i].poll() is not None:
                continue
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/jsz?streams=true"
                                            % self.http_ports[i], timeout=5) as r:
                    jsz = json.load(r)
            except (OSError, ValueError):
                continue
            for account in jsz.get("account_details") or []:
                for st in account.get("stream_detail") or []:
                    leader = (st.get("cluster") or {}).get("leader")
                    if st.get("name") == stream and leader:
                        return int(leader[1:])  # server_name n<i>
        return None

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            p.wait(30)

    def kill_all(self):
        for i in range(self.n):
            self.kill(i)

    def restart_all(self):
        for i in range(self.n):
            self.start(i)
        for i in range(self.n):
            if not self.wait_listening(i):
                raise RuntimeError("nats-server n%d did not start again (port %d taken?):\n%s"
                                   % (i, self.client_ports[i], self.logs()))

    def logs(self):
        out = []
        for i in range(self.n):
            path = os.path.join(self.dir, "n%d.log" % i)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append("--- n%d\n" % i + f.read()[-3000:])
        return "\n".join(out)

    def cleanup(self):
        self.kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)
