"""newsmill's producer client: submit articles, read fleet stats, manage dead letters.

Uses Debian's python3-zmq and python3-protobuf. The message classes are
generated from proto/newsmill.proto: into the package when it is installed
(pip install ./python, or the Debian package), else found through
$NEWSMILL_PYTHON_DIR or in build*/python of the repository (the build
generates them there).

    import newsmill
    with newsmill.Client("tcp://127.0.0.1:5555") as c:
        acks = c.submit(newsmill.articles_from_dir("samples"))
        print(sum(a.accepted for a in acks), "accepted")
        print(c.stats().rate_1m)

Guarantees: submit() returns one ArticleAck per article, in order, and only
what the queue acknowledged as durable is `accepted`; a batch whose reply does
not come in `timeout` seconds is sent again (the queue keys articles by id, so
a resend does not duplicate), up to `retries` times, then NewsmillTimeout is
raised. A refusal that passes (storage unavailable, queue full: a JetStream
cluster electing a leader refuses for seconds) is sent again, backing off
0.25 s doubling to 2 s, for up to `retries` x `timeout` from the first send,
as `newsmill submit` does. Any other error reply raises NewsmillError.
"""

import glob
import itertools
import os
import sys
import time
from datetime import datetime, timezone


def _load_pb2():
    try:  # installed: generated into the package at build time
        from . import newsmill_pb2
        return newsmill_pb2
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    candidates = []
    if os.environ.get("NEWSMILL_PYTHON_DIR"):
        candidates.append(os.environ["NEWSMILL_PYTHON_DIR"])
    candidates.append(here)  # installed: newsmill_pb2.py beside this module
    candidates.append(os.path.join(root, "build", "python"))
    others = sorted(glob.glob(os.path.join(root, "build*", "python")),
                    key=lambda p: -os.path.getmtime(p))
    candidates.extend(others)
    for path in candidates:
        if os.path.exists(os.path.join(path, "newsmill_pb2.py")):
            if path not in sys.path:
                sys.path.insert(0, path)
            import newsmill_pb2  # noqa: E402 (generated at build time)
            return newsmill_pb2
    raise ImportError("newsmill_pb2 not found: install the package (pip install ./python), "
                      "build first (cmake --build build) or set NEWSMILL_PYTHON_DIR to the "
                      "directory holding newsmill_pb2.py")


pb = _load_pb2()
import zmq  # noqa: E402

PROTOCOL_VERSION = 1
DEFAULT_QUEUE = "tcp://127.0.0.1:5555"
DEFAULT_COLLECTOR = "tcp://127.0.0.1:5558"

_CONTENT_TYPES = {
    None: pb.CONTENT_TYPE_UNSPECIFIED, "": pb.CONTENT_TYPE_UNSPECIFIED,
    "text": pb.CONTENT_TYPE_TEXT, "text/plain": pb.CONTENT_TYPE_TEXT,
    "html": pb.CONTENT_TYPE_HTML, "text/html": pb.CONTENT_TYPE_HTML,
}
_EXTENSIONS = {".txt": "text", ".html": "html", ".htm": "html"}


class NewsmillError(Exception):
    """The server answered with an ErrorReply (code and message)."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (pb.ErrorCode.Name(code), message))
        self.code = code


class NewsmillTimeout(NewsmillError):
    """No answer in time, after every retry."""

    def __init__(self, message):
        Exception.__init__(self, message)
        self.code = None


def _published_ms(value):
    if value is None or value == "":
        return 0
    if isinstance(value, (int, float)):
        return int(round(value * 1000))
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text.lstrip("-").isdigit():
            return int(text) * 1000
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)


def make_article(d):
    """A newsmill Article from a dict with the JSON-lines fields (id, url,
    source, published, content_type, body, language, metadata, priority), or
    an Article passed through."""
    if isinstance(d, pb.Article):
        return d
    body = d["body"]
    a = pb.Article(
        id=str(d.get("id") or ""),
        url=d.get("url") or "",
        source=d.get("source") or "",
        language=d.get("language") or "",
        priority=int(d.get("priority") or 0),
        content_type=_CONTENT_TYPES[d.get("content_type")],
        published_unix_ms=_published_ms(d.get("published")),
        body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
    )
    for k, v in (d.get("metadata") or {}).items():
        a.metadata.add(key=str(k), value=str(v))
    return a


def article_from_file(path, source="file", article_id=None):
    """An article dict for a .txt or .html/.htm file. The id is article_id, or
    the path as given (as `newsmill submit FILE` does)."""
    ext = os.path.splitext(path)[1].lower()
    with open(path, "rb") as f:
        body = f.read()
    if article_id is None:
        article_id = path[2:] if path.startswith("./") else path
    return {"id": article_id, "url": "file://" + os.path.realpath(path), "source": source,
            "content_type": _EXTENSIONS.get(ext, ""), "body": body}


def articles_from_jsonl(path):
    """The articles of a JSON-lines file (dicts); a malformed line raises
    ValueError naming the line."""
    import json
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError as e:
                raise ValueError("%s: line %d: %s" % (path, n, e)) from None
            if not isinstance(d, dict) or not isinstance(d.get("body"), str) or not d["body"]:
                raise ValueError("%s: line %d: not an object with a non-empty body" % (path, n))
            yield d


def articles_from_dir(directory, source="file"):
    """Every .txt/.html/.htm (and .jsonl/.ndjson) file under directory,
    recursively, in sorted order, hidden entries skipped. Ids are the
    directory's name joined with the path inside it, as `newsmill submit DIR`
    makes them, so both ways of submitting replace the same articles."""
    top = os.path.basename(os.path.realpath(directory)) or "root"
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            ext = os.path.splitext(name)[1].lower()
            rel = os.path.relpath(path, directory)
            if ext in _EXTENSIONS:
                yield article_from_file(path, source, top + "/" + rel)
            elif ext in (".jsonl", ".ndjson"):
                yield from articles_from_jsonl(path)


class Client:
    """A connection to a newsmill queue (submit, dead letters) and collector (stats).

    timeout: seconds to wait for each reply; retries: resends of a batch after
    a timeout (and a refusal that passes is sent again for up to retries x
    timeout); window: batches in flight at once.
    """

    def __init__(self, endpoint=DEFAULT_QUEUE, collector=DEFAULT_COLLECTOR,
                 timeout=10.0, retries=3, window=4):
        self.endpoint = endpoint
        self.collector = collector
        self.timeout = timeout
        self.retries = retries
        self.window = max(1, window)
        self._ctx = zmq.Context.instance()
        self._sockets = {}
        self._ids = itertools.count(int(time.time() * 1000) % 1000000 * 1000 + 1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for s in self._sockets.values():
            s.close(linger=0)
        self._sockets.clear()

    def _socket(self, endpoint, fresh=False):
        s = self._sockets.get(endpoint)
        if s is not None and fresh:
            s.close(linger=0)
            s = None
        if s is None:
            s = self._ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint)
            self._sockets[endpoint] = s
        return s

    def _send(self, sock, request_id, field, message):
        env = pb.Envelope(version=PROTOCOL_VERSION, request_id=request_id)
        getattr(env, field).CopyFrom(message)
        sock.send(env.SerializeToString())

    def _recv(self, sock, timeout_s):
        if not sock.poll(int(timeout_s * 1000)):
            return None
        frames = sock.recv_multipart()
        env = pb.Envelope()
        env.ParseFromString(frames[-1])
        return env

    def _request(self, endpoint, field, message, reply_field):
        """One request, one reply, with timeout and retries (fresh socket each try)."""
        for attempt in range(self.retries + 1):
            sock = self._socket(endpoint, fresh=attempt > 0)
            request_id = next(self._ids)
            self._send(sock, request_id, field, message)
            deadline = time.monotonic() + self.timeout
            while True:
                env = self._recv(sock, max(0.0, deadline - time.monotonic()))
                if env is None:
                    break
                if env.request_id != request_id:
                    continue  # a late answer to an earlier try
                kind = env.WhichOneof("body")
                if kind == "error":
                    raise NewsmillError(env.error.code, env.error.message)
                if kind != reply_field:
                    raise NewsmillError(pb.ERROR_UNKNOWN_TYPE, "unexpected reply " + str(kind))
                return getattr(env, reply_field)
        raise NewsmillTimeout("%s did not answer in %.1f s (%d tries)"
                              % (endpoint, self.timeout, self.retries + 1))

    def submit(self, articles, batch=100):
        """Submits articles (dicts or Articles, any iterable) in batches of
        `batch`, `window` batches in flight; returns the ArticleAcks in input
        order (ack.index is the position in the whole input). Waits for the
        queue's durable acknowledgement of every batch."""
        arts = [make_article(a) for a in articles]
        batches = [arts[i:i + batch] for i in range(0, len(arts), batch)]
        results = [None] * len(batches)
        pending = {}  # request_id -> (batch number, tries, deadline)
        refused = []  # (not before, batch number, tries): refusals to send again
        first_sent = {}  # batch number -> when it was first sent
        refusals = {}  # batch number -> refusals so far (the back-off)
        next_batch = 0
        sock = self._socket(self.endpoint)

        def send(n, tries):
            request_id = next(self._ids)
            self._send(sock, request_id, "submit", pb.SubmitBatch(articles=batches[n]))
            first_sent.setdefault(n, time.monotonic())
            pending[request_id] = (n, tries, time.monotonic() + self.timeout)

        while next_batch < len(batches) or pending or refused:
            now = time.monotonic()
            for due in [r for r in refused if r[0] <= now]:
                refused.remove(due)
                send(due[1], due[2])
            while next_batch < len(batches) and len(pending) + len(refused) < self.window:
                send(next_batch, 0)
                next_batch += 1
            wake = [d for _, _, d in pending.values()] + [r[0] for r in refused]
            env = self._recv(sock, max(0.0, min(wake) - time.monotonic()))
            if env is not None:
                entry = pending.pop(env.request_id, None)
                if entry is None:
                    continue  # a late answer to a resent batch
                n, tries, _ = entry
                kind = env.WhichOneof("body")
                if kind == "error":
                    budget = self.retries * self.timeout
                    if (env.error.code in (pb.ERROR_QUEUE_FULL, pb.ERROR_STORAGE)
                            and time.monotonic() - first_sent[n] < budget):
                        # tries counts timeouts only: a refusal is an answer
                        refusals[n] = refusals.get(n, 0) + 1
                        backoff = 0.25 * 2 ** min(refusals[n] - 1, 3)
                        refused.append((time.monotonic() + backoff, n, tries))
                        continue
                    raise NewsmillError(env.error.code, env.error.message)
                if kind != "submit_ack":
                    raise NewsmillError(pb.ERROR_UNKNOWN_TYPE, "unexpected reply " + str(kind))
                results[n] = env.submit_ack
                continue
            now = time.monotonic()
            for request_id, (n, tries, deadline) in list(pending.items()):
                if deadline <= now:
                    del pending[request_id]
                    if tries >= self.retries:
                        raise NewsmillTimeout("queue %s did not acknowledge a batch in %.1f s (%d tries)"
                                              % (self.endpoint, self.timeout, tries + 1))
                    send(n, tries + 1)
        acks = []
        for n, reply in enumerate(results):
            for ack in reply.acks:
                ack.index += n * batch
                acks.append(ack)
        return acks

    def stats(self):
        """The collector's StatsSnapshot (protobuf message) of the whole fleet."""
        return self._request(self.collector, "stats_request", pb.StatsRequest(), "snapshot")

    def dead(self, limit=100, article_id=""):
        """Dead letters (newest first) with their failure histories: a DeadList."""
        return self._request(self.endpoint, "dead_list_request",
                             pb.DeadListRequest(limit=limit, id=article_id), "dead_list")

    def requeue(self, ids=(), all=False):
        """Puts dead letters back in the queue; returns the RequeueReply."""
        return self._request(self.endpoint, "requeue",
                             pb.RequeueRequest(ids=list(ids), all=all), "requeue_reply")
