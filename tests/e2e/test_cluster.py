"""Cluster mode of SPEC §8, codes and log shipping: two real refgate nodes on a real 3-server
NATS JetStream cluster on loopback (nats_cluster.py). Every wait here is on
a condition (an answer, a line of output), bounded; none on the clock."""
import re
import subprocess
import threading
import time
import unittest

from harness import BIN, DEFAULT_CONFIG, Server, metric
from nats_cluster import NatsCluster

PROPAGATION_S = 10  # the bound of a wait; the figure itself is printed, and SPEC asks for 1 s


def node_config(urls, node_id, replicas=3):
    return DEFAULT_CONFIG + """
[cluster]
nats_urls = [%s]
node_id = "%s"
replicas = %d
""" % (", ".join('"%s"' % u for u in urls), node_id, replicas)


def wait_until(check, timeout, what):
    """check()'s first true answer; `what` (a string, or a function making one
    once it is needed) says what did not come."""
    end = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.time() > end:
            raise AssertionError("timed out waiting for " + (what if isinstance(what, str)
                                                             else what()))
        time.sleep(0.01)


def wait_output(srv, pattern, timeout=60, after=0):
    """The first match of `pattern` in srv's output lines from line `after` on."""
    def find():
        for line in srv.output[after:]:
            m = re.search(pattern, line)
            if m:
                return m
        return None
    return wait_until(find, timeout, lambda: "%r in refgate's output:\n%s" % (pattern, srv.text()))


def start_nodes(nats, names, make):
    """make(urls, name) for each name, every node knowing a different first
    server (the client finds the rest); the nodes once each has its codes in
    sync. On a failure the ones made are cleaned up, and NATS with them."""
    nodes = []
    try:
        for i, name in enumerate(names):
            nodes.append(make(nats.urls([i, (i + 1) % 3, (i + 2) % 3]), name))
        for n in nodes:
            wait_output(n, r"cluster: codes in sync at revision \d+")
    except BaseException:
        for n in nodes:
            n.cleanup()
        nats.cleanup()
        raise
    return nodes


class ClusterCodesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nats = NatsCluster()
        cls.retired = []
        cls.nodes = start_nodes(cls.nats, ("a", "b"),
                                lambda urls, name: Server(config=node_config(urls, name)))

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes + cls.retired:
            n.cleanup()
        cls.nats.cleanup()

    def setUp(self):
        self.a, self.b = self.nodes
        self.assertTrue(all(p.poll() is None for p in self.nats.procs), self.nats.logs())

    def redirects(self, node, code, status=302):
        return node.get("/" + code)[0] == status

    def await_status(self, node, code, status):
        start = time.time()
        wait_until(lambda: self.redirects(node, code, status), PROPAGATION_S,
                   "/%s to answer %d on the other node" % (code, status))
        return time.time() - start

    def test_code_made_on_one_node_redirects_on_the_other(self):
        body = self.a.create(code="clusterA1", referrer_id="ref_1")
        self.assertEqual(body["code"], "clusterA1")
        took = self.await_status(self.b, "clusterA1", 302)
        print("visible on the other node after %.3f s" % took)
        status, headers, _ = self.b.get("/clusterA1")
        self.assertEqual(headers["location"].split("?")[0], "https://example.com/welcome")
        # The writer reads its own write at once.
        self.assertEqual(self.a.api("GET", "/api/v1/codes/clusterA1")[0], 200)
        self.assertEqual(self.b.api("GET", "/api/v1/codes/clusterA1")[0], 200)

    def test_two_nodes_creating_one_code_at_once(self):
        for round in range(5):
            code = "race%d" % round
            results = [None, None]

            def create(i, node):
                results[i] = node.api("POST", "/api/v1/codes",
                                      {"code": code, "referrer_id": "ref_%d" % i})
            threads = [threading.Thread(target=create, args=(i, n))
                       for i, n in enumerate(self.nodes)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(sorted(r[0] for r in results), [201, 409], results)
            winner = [r for r in results if r[0] == 201][0][2]["referrer_id"]
            for node in self.nodes:
                wait_until(lambda: node.api("GET", "/api/v1/codes/" + code)[2].get(
                    "referrer_id") == winner, PROPAGATION_S, "the winner on every node")

    def test_patch_and_delete_reach_every_node(self):
        self.a.create(code="changeme", referrer_id="ref_2")
        self.await_status(self.b, "changeme", 302)
        status, _, body = self.b.api("PATCH", "/api/v1/codes/changeme",
                                     {"target_url": "https://example.com/spring"})
        self.assertEqual(status, 200, body)
        wait_until(lambda: self.a.get("/changeme")[1].get("location", "").startswith(
            "https://example.com/spring"), PROPAGATION_S, "the patch on node a")
        self.assertEqual(self.a.api("DELETE", "/api/v1/codes/changeme")[0], 204)
        self.await_status(self.b, "changeme", 410)
        # A deleted code stays taken, on every node.
        self.assertEqual(self.b.api("POST", "/api/v1/codes", {"code": "changeme", "referrer_id": "ref_c"})[0], 409)
        self.assertEqual(self.b.api("DELETE", "/api/v1/codes/changeme")[0], 404)

    def test_batch_through_the_cluster(self):
        self.a.create(code="batchtaken", referrer_id="ref_c")
        status, _, body = self.b.api("POST", "/api/v1/codes/batch", {"codes": [
            {"code": "batch1", "referrer_id": "ref_c"}, {"code": "batchtaken", "referrer_id": "ref_c"}, {"referrer_id": "ref_gen"}]})
        self.assertEqual(status, 200, body)
        results = body["results"]
        self.assertEqual(results[0]["code"], "batch1")
        self.assertEqual(results[1]["error"]["type"], "conflict")
        generated = results[2]["code"]
        for code in ("batch1", generated):
            self.await_status(self.a, code, 302)

    def test_a_restarted_node_resumes_from_what_it_applied(self):
        b = self.nodes[1]
        self.b.create(code="beforestop", referrer_id="ref_c")
        self.await_status(self.a, "beforestop", 302)
        data = b.data_dir
        with open(b.config_path) as f:
            config = f.read()
        b.stop()
        self.a.create(code="whiledown", referrer_id="ref_c")
        self.a.api("PATCH", "/api/v1/codes/beforestop", {"target_url": "https://example.com/x"})
        restarted = Server(config=config, data_dir=data)
        self.nodes[1] = restarted
        m = wait_output(restarted, r"cluster: codes in sync at revision (\d+)")
        self.assertGreater(int(m.group(1)), 0)
        self.assertNotIn("reading it again from its start", restarted.text())
        self.assertTrue(self.redirects(restarted, "whiledown"))
        self.assertTrue(restarted.get("/beforestop")[1]["location"].startswith(
            "https://example.com/x"))
        self.retired.append(b)  # its directory holds the data: removed at the end

    def test_each_node_ships_its_clicks(self):
        # The stream's contents are checked record by record in
        # tests/cluster/log_shipper_test.cc; here, that serve ships.
        self.a.create(code="shipme", referrer_id="ref_s")
        self.await_status(self.b, "shipme", 302)
        for node in self.nodes:
            before = metric(node, "refgate_cluster_shipped_seq")
            for _ in range(20):
                self.assertEqual(node.get("/shipme")[0], 302)
            wait_until(lambda: metric(node, "refgate_cluster_shipped_seq") >= before + 20 and
                       metric(node, "refgate_cluster_ship_lag_records") == 0,
                       PROPAGATION_S, lambda: "the clicks shipped (from %d):\n%s\n%s" % (
                           before, node.api("GET", "/metrics", token="")[2], node.text()))
        self.assertNotIn("shipping refused", self.a.text() + self.b.text())
        # `refgate cluster status` reads the same positions from the stream.
        r = subprocess.run([BIN, "cluster", "status", "--config", self.a.config_path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name, node in (("a", self.a), ("b", self.b)):
            row = re.search(r"^%s +(\d+) +(\d+)" % name, r.stdout, re.M)
            self.assertIsNotNone(row, r.stdout)
            self.assertEqual(int(row.group(1)), metric(node, "refgate_cluster_shipped_seq"))
        self.assertRegex(r.stdout, r"codes: bucket at revision [1-9]")

    def test_z_nats_down_then_back(self):
        # Last (z): it takes the whole NATS cluster down.
        self.a.create(code="beforeoutage", referrer_id="ref_c")
        self.await_status(self.b, "beforeoutage", 302)
        self.nats.kill_all()
        wait_until(lambda: self.a.api("POST", "/api/v1/codes", {"code": "inoutage", "referrer_id": "ref_c"})[0] == 503,
                   PROPAGATION_S, "503 from the admin API without NATS")
        status, headers, body = self.b.api("PATCH", "/api/v1/codes/beforeoutage",
                                           {"target_url": "https://example.com/y"})
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("retry-after"), "1")
        # Visitors never notice.
        for node in self.nodes:
            for _ in range(20):
                self.assertEqual(node.get("/beforeoutage")[0], 302)
        self.nats.restart_all()
        # A code per try: a create NATS took but answered too late for is a 503 and then a 409.
        tries = iter(range(10000))
        made = wait_until(lambda: (lambda code: self.a.api("POST", "/api/v1/codes", {
            "code": code, "referrer_id": "ref_c"})[0] == 201 and code)("afteroutage%d" % next(tries)),
            60, "the admin API back once NATS is")
        self.await_status(self.b, made, 302)
        self.assertEqual(self.b.get("/inoutage")[0], 404)


if __name__ == "__main__":
    unittest.main()
