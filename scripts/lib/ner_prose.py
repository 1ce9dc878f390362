"""German prose as NER training sentences with no entity in them (scripts/ner-prose).

WikiANN's German sentences are built around Wikipedia links, so its common
nouns ("Kirche", "Polizei", "Partei") appear almost only inside names: a model
trained on it alone tags them as names in running text. Sentences of ordinary
German prose, every token tagged O, teach it otherwise. They come from two
Debian packages: fortunes-de (quotations, proverbs, sayings; GPL-2+) and
manpages-de (the German manual pages; GPL-3+), whose prose paragraphs are
kept (no options, paths, code or translator credits).

Prose has names too, and an O there would teach the model to miss them: a
sentence is dropped when it holds a one-word place, nationality or given
name of the gazetteer (its organisation words are common nouns) or a word that
WikiANN's training sets (all five languages) tag as a one-word name at least
a fifth of the times it occurs (and twice or more): "Deutschland", "Europa",
"Berlin". What is left is written in WikiANN's format ("de:WORD<TAB>O", a
blank line after each sentence), which scripts/train-ner reads. The same
packages give the same file.
"""
import argparse
import collections
import concurrent.futures
import glob
import os
import re
import subprocess
import sys

FORTUNES = "/usr/share/games/fortunes/de"
# Files of sayings and quotations; the others are mostly jokes and anecdotes
# about named people, or computer talk.
FORTUNE_FILES = ["doppelsinnig", "gedichte", "holenlassen", "kalt", "kinderzitate", "letzteworte",
                 "lieberals", "murphy", "regeln", "sprichworte", "sprichwortev", "sprueche",
                 "stilblueten", "tips", "unfug", "warmduscher", "zitate"]
MAN_DIR = "/usr/share/man/de"
LANGS = ["de", "en", "fr", "nl", "pt"]
NAME_SHARE, NAME_MIN = 0.2, 2

TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]")
SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=[A-ZÄÖÜ"„])')
MAN_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])")
NOT_PROSE = re.compile(r"[/=$<>_\\{}\[\]@#*|`]|--|\b[A-Z]{2,}\b")


def fortune_sentences():
    for name in FORTUNE_FILES:
        with open(os.path.join(FORTUNES, name + ".u8"), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for fortune in text.split("\n%\n"):
            # the attribution ("-- Marcel Achard") is a name: left out
            lines = [l.strip() for l in fortune.split("\n") if not l.strip().startswith("--")]
            body = " ".join(l for l in lines if l)
            if not body or re.search(r"[<>|{}\\]|http|@", body):
                continue
            for s in SENTENCE_END.split(body):
                tokens = TOKEN.findall(s)
                if 4 <= len(tokens) <= 60:
                    yield tokens


def man_sentences():
    pages = sorted(glob.glob(os.path.join(MAN_DIR, "man*", "*.gz")))
    if not pages:
        sys.exit("ner-prose: no German manual pages under %s: manpages-de installed none (does "
                 "this system leave /usr/share/man out of packages? see /etc/dpkg/dpkg.cfg.d)"
                 % MAN_DIR)
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        for text in pool.map(render_man, pages):  # in order: the same file each time
            yield from man_prose(text)


def render_man(page):
    env = dict(os.environ, MANWIDTH="2000", LC_ALL="C.UTF-8")
    out = subprocess.run(["man", "-l", page], capture_output=True, env=env)
    text = subprocess.run(["col", "-b"], input=out.stdout, capture_output=True).stdout
    return text.decode("utf-8", errors="replace")


def man_prose(text):
    for para in re.split(r"\n\s*\n", text):
        body = " ".join(l.strip() for l in para.split("\n"))
        for s in MAN_SENTENCE_END.split(body):
            if NOT_PROSE.search(s) or not s.endswith(".") or "bersetz" in s:
                continue  # options, paths, code; "Übersetzung": translators' names
            tokens = TOKEN.findall(s)
            if not 6 <= len(tokens) <= 50 or "Dr" in tokens:
                continue
            if any(t.startswith("-") for t in tokens):
                continue
            if sum(t.isalpha() for t in tokens) < 0.8 * len(tokens):
                continue
            yield tokens


def name_words(wikiann, gazetteer):
    """Words that are names often enough that a sentence holding one is left out."""
    names = set()
    with open(gazetteer, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip("\n")
            cls, _, entry = line.partition("\t")
            if cls in ("loc", "nat", "per") and len(entry.split()) == 1:
                names.add(entry.strip())
    alone, seen = collections.Counter(), collections.Counter()
    for lang in LANGS:
        sentence = []
        with open(os.path.join(wikiann, lang, "train.txt"), encoding="utf-8") as f:
            for line in list(f) + [""]:
                line = line.rstrip("\n")
                if line:
                    word, tag = line.split("\t")
                    sentence.append((word.split(":", 1)[1], tag))
                    continue
                for i, (word, tag) in enumerate(sentence):
                    seen[word] += 1
                    ends = i + 1 == len(sentence) or not sentence[i + 1][1].startswith("I-")
                    if tag.startswith("B-") and ends:
                        alone[word] += 1
                sentence = []
    names.update(w for w, n in alone.items() if n >= NAME_MIN and n >= NAME_SHARE * seen[w])
    return names


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(prog="scripts/ner-prose", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="file to write (WikiANN format)")
    ap.add_argument("--wikiann", default=os.path.join(root, "..", "shared", "eval", "wikiann"),
                    help="WikiANN directory (LANG/train.txt), for the names (default: %(default)s)")
    ap.add_argument("--gazetteer", default=os.path.join(root, "data", "ner-gazetteer.txt"),
                    help="gazetteer whose places, nationalities and given names are names "
                    "(default: %(default)s)")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.wikiann, "de", "train.txt")):
        sys.exit("ner-prose: no WikiANN training sets under %s (--wikiann DIR)" % args.wikiann)
    names = name_words(args.wikiann, args.gazetteer)
    counts = collections.Counter()
    with open(args.out, "w", encoding="utf-8") as out:
        for source, sentences in (("fortunes-de", fortune_sentences()),
                                  ("manpages-de", man_sentences())):
            for tokens in sentences:
                counts[source, "read"] += 1
                if any(t in names for t in tokens):
                    continue
                counts[source, "kept"] += 1
                counts[source, "tokens"] += len(tokens)
                out.write("".join("de:%s\tO\n" % t for t in tokens) + "\n")
    for source in ("fortunes-de", "manpages-de"):
        print("ner-prose: %s: %d sentences read, %d kept (%d tokens)"
              % (source, counts[source, "read"], counts[source, "kept"], counts[source, "tokens"]),
              file=sys.stderr)


if __name__ == "__main__":
    main()
