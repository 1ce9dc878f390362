"""python3 -m newsmill FILE|DIR...: submit .txt/.html files to a newsmill queue."""
import argparse
import os
import sys

from .client import DEFAULT_QUEUE, Client, NewsmillError, article_from_file, articles_from_dir


def main(argv):
    p = argparse.ArgumentParser(prog="python3 -m newsmill",
                                description="Submit .txt/.html files to a newsmill queue.")
    p.add_argument("paths", nargs="+")
    p.add_argument("--queue", default=DEFAULT_QUEUE)
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args(argv)
    arts = []
    for path in args.paths:
        arts.extend(articles_from_dir(path) if os.path.isdir(path) else [article_from_file(path)])
    with Client(args.queue, timeout=args.timeout) as c:
        try:
            acks = c.submit(arts)
        except NewsmillError as e:
            print("newsmill:", e, file=sys.stderr)
            return 3
    accepted = sum(a.accepted for a in acks)
    for a in acks:
        if not a.accepted:
            print("rejected %s: %s" % (a.id, a.reason), file=sys.stderr)
    print("accepted %d, rejected %d" % (accepted, len(acks) - accepted))
    return 0 if accepted == len(acks) else 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
