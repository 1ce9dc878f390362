"""newsmill's results client: the questions of `newsmill serve`'s HTTP API.

Standard library only (urllib). Every method returns the API's JSON: a list
method returns its rows (a list of dicts); article() the stored extraction.
An error answer raises NewsmillHTTPError (a NewsmillError) with the HTTP
status and the API's detail (400 for a malformed query, 404 for an unknown
id, 401 for a missing or wrong token). See docs/api.md.

    import newsmill
    r = newsmill.Results("http://127.0.0.1:9190")
    for hit in r.search('"wind farm" AND Aberdeen', limit=5):
        print(hit["id"], hit["title"])
    print(r.top("person", since="24h"))
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from .client import NewsmillError

DEFAULT_URL = "http://127.0.0.1:9190"


class NewsmillHTTPError(NewsmillError):
    """The API answered an error: status (400, 401, 404, ...) and the API's detail."""

    def __init__(self, status, detail):
        Exception.__init__(self, "HTTP %d: %s" % (status, detail))
        self.code = self.status = status
        self.detail = detail


class Results:
    """A `newsmill serve` endpoint: url like "http://127.0.0.1:9190"; token
    when the server was started with --token-file."""

    def __init__(self, url=DEFAULT_URL, token=None, timeout=10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _get(self, path, **params):
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        req = urllib.request.Request(self.url + path + ("?" + query if query else ""))
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
                detail = "%s: %s" % (body.get("error"), body.get("detail"))
            except ValueError:
                detail = str(e)
            raise NewsmillHTTPError(e.code, detail) from None

    @staticmethod
    def _part(text):
        return urllib.parse.quote(text, safe="")

    def search(self, q, limit=20, offset=0, since=None, until=None):
        """Full-text search (FTS5 syntax): id, title, source, published_unix_ms, snippet, score."""
        return self._get("/api/search", q=q, limit=limit, offset=offset, since=since,
                         until=until)["rows"]

    def latest(self, limit=20, offset=0, since=None):
        """The latest articles, newest first."""
        return self._get("/api/articles", limit=limit, offset=offset, since=since)["rows"]

    def article(self, article_id):
        """The stored extraction of an article (sentences, sections, entities, mentions, ...)."""
        return self._get("/api/articles/" + self._part(article_id))

    def top(self, type, since=None, limit=20, offset=0):
        """Most mentioned entities of a type (person, organisation, place, group, other)."""
        return self._get("/api/entities/top", type=type, since=since, limit=limit,
                         offset=offset)["rows"]

    def entity_articles(self, name, limit=20, offset=0, since=None):
        """Articles that mention name (substring, as `newsmill query entity`)."""
        return self._get("/api/entities/%s/articles" % self._part(name), limit=limit,
                         offset=offset, since=since)["rows"]

    def timeline(self, name, bucket="1h", since=None):
        """Mentions of the entity per time bucket: bucket_unix_ms, articles, mentions."""
        return self._get("/api/entities/%s/timeline" % self._part(name), bucket=bucket,
                         since=since)["rows"]

    def cooccurring(self, name, limit=20, since=None):
        """Entities most often mentioned in the same articles."""
        return self._get("/api/entities/%s/cooccurring" % self._part(name), limit=limit,
                         since=since)["rows"]

    def dups(self, article_id, limit=20):
        """Exact and near duplicates of an article."""
        return self._get("/api/dups/" + self._part(article_id), limit=limit)["rows"]

    def export(self, since=None, page=200):
        """Yields the stored extraction of every article, newest first, a page of ids at a time."""
        offset = 0
        while True:
            rows = self.latest(limit=page, offset=offset, since=since)
            for row in rows:
                yield self.article(row["id"])
            if len(rows) < page:
                return
            offset += page
