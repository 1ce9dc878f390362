"""newsmill for Python.

- Client: the producer client (submit, stats, dead, requeue) over ZeroMQ.
- Results: the results client (search, article, top entities, export, ...)
  over `newsmill serve`'s HTTP API.
"""
from .client import (DEFAULT_COLLECTOR, DEFAULT_QUEUE, PROTOCOL_VERSION, Client, NewsmillError,
                     NewsmillTimeout, article_from_file, articles_from_dir, articles_from_jsonl,
                     make_article, pb)
from .results import DEFAULT_URL, NewsmillHTTPError, Results

__version__ = "0.1.0"
__all__ = ["Client", "Results", "NewsmillError", "NewsmillTimeout", "NewsmillHTTPError", "make_article",
           "article_from_file", "articles_from_dir", "articles_from_jsonl", "pb",
           "DEFAULT_QUEUE", "DEFAULT_COLLECTOR", "DEFAULT_URL", "PROTOCOL_VERSION"]
