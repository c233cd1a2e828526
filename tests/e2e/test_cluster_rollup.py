"""Cluster mode of SPEC §8, the rollup: real refgate nodes on a real 3-server
NATS JetStream cluster on loopback, one of them the rollup node; every click
that got a 302 on any node is counted once in the rollup node's files, also
across kill -9 of a node and of the stream's leader. Every wait here is on a
condition (an answer, a position, a line of output), bounded; none on the
clock."""
import csv
import http.client
import os
import re
import signal
import subprocess
import threading
import unittest

from harness import BIN, Server, compact, metric, query_of
from nats_cluster import NatsCluster
from test_cluster import node_config, start_nodes, wait_output, wait_until

EVENTS_TOKEN = "cluster-events-token-0123456789abcdef"
ROLLED_UP_S = 120  # the bound of a wait for every node's clicks to be rolled up
THREADS = 3


def rollup_config(urls, node_id, rollup):
    return node_config(urls, node_id) + ("rollup = true\n" if rollup else "")


class Traffic:
    """THREADS visitors clicking /code on a node until stop() or the node dies;
    counts the 302s they got."""

    def __init__(self, node, code):
        self.node, self.code = node, code
        self.lock = threading.Lock()
        self.got, self.other = 0, []
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(THREADS)]
        for t in self.threads:
            t.start()

    def _run(self):
        while not self.done.is_set():
            try:
                status = self.node.get("/" + self.code)[0]
            except (OSError, http.client.HTTPException):
                return  # the node is gone
            with self.lock:
                if status == 302:
                    self.got += 1
                else:
                    self.other.append(status)

    def count(self):
        with self.lock:
            return self.got

    def stop(self):  # idempotent
        self.done.set()
        for t in self.threads:
            t.join(60)
        return self.got


class ClusterRollupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.nats = NatsCluster()
        cls.retired = []
        names = ("a", "b")
        nodes = start_nodes(cls.nats, names, lambda urls, name: Server(
            config=rollup_config(urls, name, name == "a"),
            env={"REFGATE_EVENTS_TOKEN": EVENTS_TOKEN}))
        cls.nodes = dict(zip(names, nodes))

    @classmethod
    def tearDownClass(cls):
        for n in list(cls.nodes.values()) + cls.retired:
            n.cleanup()
        cls.nats.cleanup()

    def setUp(self):
        self.a = self.nodes["a"]

    def make_code(self, code, referrer):
        self.a.create(code=code, referrer_id=referrer)
        for node in self.nodes.values():
            wait_until(lambda: node.get("/" + code)[0] == 302, 10, "/%s on every node" % code)
        # Those test clicks count too: the tests' totals start after them.
        return len(self.nodes)

    def status(self, must_answer=True):
        """`refgate cluster status` on the rollup node: {node: (shipped, rolled_up)};
        without must_answer, None where it fails (NATS not answering in time,
        as while a restarted server catches up)."""
        r = subprocess.run([BIN, "cluster", "status", "--config", self.a.config_path,
                            "--data-dir", self.a.data_dir],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 and not must_answer:
            return None
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = re.findall(r"^(\w+) +(\d+) +\d+ +(\d+|-)$", r.stdout, re.M)
        return {n: (int(s), None if u == "-" else int(u)) for n, s, u in rows}

    def rolled_up(self):
        """Compacts on the rollup node until every node has shipped all it
        logged and the rollup has it all; then the referrers' click totals."""
        def caught_up():
            for node in self.nodes.values():
                if metric(node, "refgate_cluster_ship_lag_records") != 0:
                    return False
            compact(self.a.data_dir, self.a.config_path)
            st = self.status(must_answer=False)
            return st is not None and all(name in st and st[name][0] == st[name][1]
                                          for name in self.nodes)
        wait_until(caught_up, ROLLED_UP_S, lambda: "every node rolled up: %r\n%s" % (
            self.status(must_answer=False), self.a.text()))
        totals = {}
        with open(os.path.join(self.a.data_dir, "rollups", "referrers.csv")) as f:
            for row in csv.DictReader(f):
                totals[row["referrer_id"]] = int(row["clicks"]) + int(row["bot_clicks"])
        return totals

    def test_traffic_on_two_nodes_is_counted_exactly_at_the_rollup(self):
        before = self.make_code("rollboth", "ref_both")
        traffic = self.traffic("rollboth")
        wait_until(lambda: all(t.count() >= 100 for t in traffic), 60, "traffic")
        got = sum(t.stop() for t in traffic)
        self.assertEqual([s for t in traffic for s in t.other], [])
        self.assertEqual(self.rolled_up().get("ref_both"), got + before)
        self.assertNotIn("refused", self.a.text())

    def test_a_click_id_minted_on_one_node_attributes_at_the_rollup(self):
        # Every node signs click ids with the cluster's key (taken through
        # NATS at its first start), so the rollup node verifies b's.
        b = self.nodes["b"]
        keys = set()
        for node in (self.a, b):
            with open(os.path.join(node.data_dir, "cluster", "click.key")) as f:
                keys.add(f.read())
        self.assertEqual(len(keys), 1)
        self.make_code("rollcid", "ref_cid")
        status, h, _ = b.get("/rollcid")
        self.assertEqual(status, 302)
        cid = dict(query_of(h["location"]))["rg_click"]
        sale = {"event_id": "cid-on-b", "type": "sale", "order_id": "o-cid", "amount_minor": 1000,
                "click_id": cid}
        status, _, reply = self.a.api("POST", "/api/v1/events", sale, token=EVENTS_TOKEN)
        self.assertEqual(status, 201, reply)
        self.rolled_up()
        rows = {}
        daily = os.path.join(self.a.data_dir, "rollups", "daily")
        for d in sorted(os.listdir(daily)):
            path = os.path.join(daily, d, "events.csv")
            if os.path.exists(path):
                with open(path, newline="") as f:
                    rows.update({r["event_id"]: r for r in csv.DictReader(f)})
        row = rows["cid-on-b"]
        self.assertEqual((row["status"], row["method"], row["referrer_id"], row["code"]),
                         ("attributed", "click_id", "ref_cid", "rollcid"), row)

    def test_kill_9_of_a_node_mid_traffic(self):
        urls = self.nats.urls([2, 0, 1])
        c = Server(config=rollup_config(urls, "c", False))
        self.nodes["c"] = c
        wait_output(c, r"cluster: codes in sync at revision \d+")
        before = self.make_code("rollkill", "ref_kill")
        traffic = Traffic(c, "rollkill")
        self.addCleanup(traffic.stop)
        wait_until(lambda: traffic.count() >= 150, 60, "traffic on node c")
        c.stop(sig=signal.SIGKILL)
        got = traffic.stop()
        self.assertEqual(traffic.other, [])
        with open(c.config_path) as f:
            config = f.read()
        self.retired.append(c)  # its directory holds the data: removed at the end
        restarted = Server(config=config, data_dir=c.data_dir)
        self.nodes["c"] = restarted
        counted = self.rolled_up().get("ref_kill")
        # Every 302 was on disk before it was sent; a click written whose
        # answer the kill cut off is counted too (one per visitor at most).
        self.assertGreaterEqual(counted, got + before)
        self.assertLessEqual(counted, got + before + THREADS)
        print("node c killed after %d 302s; %d counted" % (got, counted - before))

    def traffic(self, code):
        """Traffic on every node, stopped at the test's end whatever happens."""
        traffic = [Traffic(n, code) for n in self.nodes.values()]
        for t in traffic:
            self.addCleanup(t.stop)
        return traffic

    def test_kill_9_of_the_stream_leader_mid_traffic(self):
        before = self.make_code("rollleader", "ref_leader")
        # Found before the traffic, which slows the servers' answers down.
        leader, = wait_until(lambda: [i for i in [self.nats.stream_leader("REFGATE_LOG")]
                                      if i is not None], 60, "the stream's leader")
        traffic = self.traffic("rollleader")
        wait_until(lambda: all(t.count() >= 50 for t in traffic), 60, "traffic")
        self.nats.kill(leader)
        at_kill = [t.count() for t in traffic]
        wait_until(lambda: all(t.count() >= k + 50 for t, k in zip(traffic, at_kill)), 60,
                   "traffic after the leader's death")
        got = sum(t.stop() for t in traffic)
        self.assertEqual([s for t in traffic for s in t.other], [])
        self.nats.start(leader)
        self.assertTrue(self.nats.wait_listening(leader), self.nats.logs())
        self.assertEqual(self.rolled_up().get("ref_leader"), got + before)


if __name__ == "__main__":
    unittest.main()
