"""The installed newsmill package against a real fleet and `newsmill serve`.

Run by tests/integration/test_python_package.sh, which installs the package
into a venv and starts the programs; it passes their addresses in
NEWSMILL_TEST_* variables (the tests skip without them)."""
import json
import os
import subprocess
import unittest

import newsmill

ENV = os.environ.get
NEEDS = unittest.skipUnless(ENV("NEWSMILL_TEST_SERVE"), "NEWSMILL_TEST_* not set: run "
                            "tests/integration/test_python_package.sh")


def cli(*args):
    out = subprocess.run([ENV("NEWSMILL_TEST_NM"), "query", "--db", ENV("NEWSMILL_TEST_DB"),
                          "--json", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


class Package(unittest.TestCase):
    def test_installed_with_generated_messages(self):
        here = os.path.dirname(newsmill.__file__)
        self.assertEqual(os.path.dirname(newsmill.pb.__file__), here)
        if ENV("NEWSMILL_TEST_INSTALLED"):
            self.assertIn("site-packages", here)
        self.assertTrue(hasattr(newsmill.pb, "ArticleAck"))


@NEEDS
class ResultsClient(unittest.TestCase):
    def setUp(self):
        self.r = newsmill.Results(ENV("NEWSMILL_TEST_SERVE"))

    def test_search_same_as_cli(self):
        for q in ("wind", '"wind farm"', "Ankara OR Lagos"):
            self.assertEqual(self.r.search(q, limit=50), cli("--limit", "50", "search", q))

    def test_article_top_dups_entity(self):
        ids = [a["id"] for a in self.r.latest(limit=1000)]
        self.assertGreaterEqual(len(ids), 10)
        for i in ids:
            self.assertEqual(self.r.article(i), cli("article", i))
            self.assertEqual(self.r.dups(i), cli("dups", i))
        top = self.r.top("place", limit=5)
        self.assertEqual(top, cli("--limit", "5", "top", "places"))
        name = top[0]["name"]
        self.assertEqual(self.r.entity_articles(name), cli("entity", name))
        self.assertEqual(sum(b["mentions"] for b in self.r.timeline(name, bucket="1d")),
                         top[0]["mentions"])
        self.assertTrue(self.r.cooccurring(name))

    def test_export_every_article(self):
        arts = list(self.r.export(page=3))
        self.assertEqual(sorted(a["id"] for a in arts),
                         sorted(a["id"] for a in self.r.latest(limit=1000)))
        self.assertTrue(all("entities" in a and "mentions" in a for a in arts))

    def test_errors(self):
        with self.assertRaises(newsmill.NewsmillHTTPError) as e:
            self.r.search('"unbalanced')
        self.assertEqual(e.exception.status, 400)
        self.assertIn("unterminated string", str(e.exception))
        with self.assertRaises(newsmill.NewsmillHTTPError) as e:
            self.r.article("../../etc/passwd")
        self.assertEqual(e.exception.status, 404)
        with self.assertRaises(newsmill.NewsmillError):  # the common base
            self.r.top("aliens")

    def test_token(self):
        url, token = ENV("NEWSMILL_TEST_SERVE_TOKEN_URL"), ENV("NEWSMILL_TEST_TOKEN")
        with self.assertRaises(newsmill.NewsmillHTTPError) as e:
            newsmill.Results(url).search("wind")
        self.assertEqual(e.exception.status, 401)
        self.assertTrue(newsmill.Results(url, token=token).search("wind"))


@NEEDS
class ProducerClient(unittest.TestCase):
    def test_submit_stats_dead(self):
        with newsmill.Client(ENV("NEWSMILL_TEST_QUEUE"), collector=ENV("NEWSMILL_TEST_COLLECTOR"),
                             timeout=5) as c:
            acks = c.submit([{"id": "py-pkg-1", "body": "Plain text from the package."},
                             {"id": "py-pkg-2", "content_type": "html",
                              "body": "<h1>Title</h1><p>From the package.</p>"}])
            self.assertEqual([(a.id, a.accepted) for a in acks],
                             [("py-pkg-1", True), ("py-pkg-2", True)])
            self.assertGreater(len(c.stats().totals), 0)
            self.assertEqual(c.dead().total, 0)
            self.assertEqual(c.requeue(ids=["no-such-id"]).requeued, 0)


if __name__ == "__main__":
    unittest.main()
