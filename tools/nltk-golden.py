#!/usr/bin/python3
"""Write the golden files that text/nltk_golden_test.go checks the word
tokenizer against: NLTK's own sentence split and word tokens of the cleaned
comments, one sentence a line.

Generated with NLTK 3.8 (Debian bookworm's python3-nltk 3.8-1, Python 3.11);
the script refuses any other NLTK version, because the golden files say what
that version does. Regenerate from the repository root after changing the
cleaner or the tokenizer's parameters:

    apt-get install python3-nltk      # Debian's NLTK 3.8
    /usr/bin/python3 tools/nltk-golden.py

The pipeline is the seed's (github.com/dennybritz/rnn-tutorial-rnnlm):
text.lower(), sent_tokenize, then word_tokenize on each sentence (which runs
Punkt once more on the sentence and NLTKWordTokenizer on each part). The
input is each comment as the project cleans it, read from
`commentbot corpus tokens --level char --file F` (default config).

Punkt's trained English parameters (nltk_data's tokenizers/punkt/english.pickle)
are not packaged by Debian and this machine has no network. Punkt runs here
with the parameters the Go tokenizer documents instead: its abbreviation list
(punktAbbreviations in text/tokenize.go) as abbrev_types, and its sentence
starters (punktSentenceStarters) with the orthographic context "upper case at
a sentence start, lower case inside one"; no collocations. Each comment also
records whether Punkt without any parameters splits it differently
("params": true): those splits rest on the stand-in parameters, and NLTK's
trained model may split them otherwise.

The one documented difference is applied here, before writing: the cleaner's
URL placeholder "<url>" is one token (NLTK's "<", "url", ">" are joined); each
sentence records how many were joined ("url_joined").

Outputs (paths relative to the repository root):
  text/testdata/nltk/sample.jsonl  the embedded sample (text the project
                                     wrote): sentence text and tokens.
  text/testdata/nltk/seed.jsonl    the seed sample from ../shared/data, which
                                     must not be copied into the project: per
                                     sentence only hashes of its text and of its
                                     tokens, and the token count.
Hashes are the first 16 hex digits of SHA-256 over UTF-8: a comment's cleaned
text ("input"), a sentence's text with whitespace runs collapsed to one space
("text_sha"), a sentence's tokens joined by single spaces ("tokens_sha"), and a comment's tokens across all its sentences
("comment_tokens_sha", which tells a different split from different tokens).
"""

import argparse
import hashlib
import json
import os
import platform
import random
import re
import subprocess
import sys

import nltk
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import (
    _ORTHO_BEG_UC,
    _ORTHO_MID_LC,
    PunktParameters,
    PunktSentenceTokenizer,
)

NLTK_VERSION = "3.8"
URL_TOKEN = "<url>"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = {
    "sample": ("corpus/sample/comments.ndjson", "text/testdata/nltk/sample.jsonl", False),
    "seed": ("../shared/data/reddit-comments-2015-08.sample.csv", "text/testdata/nltk/seed.jsonl", True),
}


def go_word_list(name):
    """Reads the word list `var name = wordSet(`...`)` from text/tokenize.go."""
    with open(os.path.join(ROOT, "text/tokenize.go"), encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"var %s = wordSet\(`([^`]*)`\)" % name, src)
    if not m:
        sys.exit("text/tokenize.go: no %s word list" % name)
    return sorted(m.group(1).split())


def punkt(abbreviations, starters):
    params = PunktParameters()
    params.abbrev_types = set(abbreviations)
    for w in starters:
        params.add_ortho_context(w, _ORTHO_BEG_UC | _ORTHO_MID_LC)
    return PunktSentenceTokenizer(params)


def unescape(field):
    """Inverts escapeField of `commentbot corpus tokens`."""
    return re.sub(
        r"\\(\\|t|n|x[0-9a-f]{2}|u[0-9a-f]{4})",
        lambda m: {"\\": "\\", "t": "\t", "n": "\n"}.get(m.group(1)) or chr(int(m.group(1)[1:], 16)),
        field,
    )


def cleaned_comments(path):
    """The comments of path as the project cleans them, in order."""
    env = {k: v for k, v in os.environ.items() if k != "COMMENTBOT_CONFIG"}
    out = subprocess.run(
        ["go", "run", ".", "corpus", "tokens", "--config=", "--level", "char", "--file", path],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, encoding="utf-8",
    ).stdout
    return [unescape(line.split("\t", 1)[0]) for line in out.split("\n") if line]


def join_url_tokens(tokens):
    """Joins NLTK's "<", "url", ">" into the cleaner's one URL token."""
    out, joined, i = [], 0, 0
    while i < len(tokens):
        if tokens[i : i + 3] == ["<", "url", ">"]:
            out.append(URL_TOKEN)
            joined += 1
            i += 3
            continue
        out.append(tokens[i])
        i += 1
    return out, joined


def sha(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:16]


def golden(comments, sent_tok, bare_tok, hashed):
    """Yields one record a sentence: the seed's pipeline with sent_tok."""
    words = NLTKWordTokenizer()
    for i, text in enumerate(comments):
        lower = text.lower()
        sentences = sent_tok.tokenize(lower)
        params = sentences != bare_tok.tokenize(lower)
        recs, all_toks = [], []
        for j, sent in enumerate(sentences):
            # word_tokenize(sent): Punkt again, then the Treebank rules.
            toks = [t for part in sent_tok.tokenize(sent) for t in words.tokenize(part)]
            toks, joined = join_url_tokens(toks)
            all_toks += toks
            rec = {"comment": i, "input": sha(text), "sentence": j}
            if hashed:
                rec.update(text_sha=sha(" ".join(sent.split())), tokens_sha=sha(" ".join(toks)), tokens=len(toks))
            else:
                rec.update(text=sent, tokens=toks)
            rec.update(url_joined=joined, params=params)
            recs.append(rec)
        for rec in recs:
            if hashed:
                # The comment's tokens across its sentences: tells a different
                # split from different tokens.
                rec["comment_tokens_sha"] = sha(" ".join(all_toks))
            yield rec


# Pieces of random texts for --random: the awkward cases of both tokenizers.
PIECES = (
    "a i I the The It it so So no don't can't cannot gonna wanna gotta gimme lemme 'tis 'twas d'ye more'n "
    "mr Mr. dr. e.g. i.e. u.s. p.m. etc. vs. J. S. Bach 2015 2015. 3.14 1,000 .2 -5 90s '90s 'looking bad' "
    "'a' 'b 'n' 's 'm 'x rock'n'roll players' you're we've I'll she'd isn't N'T <url> "
    ". .. ... .... , ; : ? ! ?! !! ' '' \" ` `` ( ) [ ] { } < > - -- --- * ** @ # $ % & "
    "– — « » “ ” ‘ ’ „ … été ſ 😂"
).split()
SPACES = ["", "", " ", " ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", " \n"]


def random_texts(n, seed):
    """n random texts built from PIECES and SPACES, reproducible from seed."""
    rnd = random.Random(seed)
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 30)):
            parts.append(rnd.choice(PIECES))
            parts.append(rnd.choice(SPACES))
        yield "".join(parts)


def answers(texts, sent_tok):
    """Yields the seed's pipeline's sentences and tokens for each text."""
    words = NLTKWordTokenizer()
    for text in texts:
        sents = []
        for sent in sent_tok.tokenize(text.lower()):
            toks = [t for part in sent_tok.tokenize(sent) for t in words.tokenize(part)]
            sents.append({"text": sent, "tokens": join_url_tokens(toks)[0]})
        yield {"text": text, "sentences": sents}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="*", default=sorted(SOURCES), help="sample, seed (default: both)")
    ap.add_argument("--random", type=int, default=0, metavar="N",
                    help="instead: write NLTK's answers for N random texts to stdout, one JSON a line")
    ap.add_argument("--seed", type=int, default=1, help="seed of --random")
    args = ap.parse_args()
    if nltk.__version__ != NLTK_VERSION:
        sys.exit("NLTK %s found; the golden files are NLTK %s's answers" % (nltk.__version__, NLTK_VERSION))
    abbreviations = go_word_list("punktAbbreviations")
    starters = go_word_list("punktSentenceStarters")
    sent_tok, bare_tok = punkt(abbreviations, starters), PunktSentenceTokenizer()
    if args.random > 0:
        for rec in answers(random_texts(args.random, args.seed), sent_tok):
            print(json.dumps(rec, ensure_ascii=False))
        return
    for name in args.sources:
        src, dst, hashed = SOURCES[name]
        comments = cleaned_comments(src)
        records = list(golden(comments, sent_tok, bare_tok, hashed))
        header = {
            "generator": "tools/nltk-golden.py",
            "nltk": nltk.__version__,
            "python": platform.python_version(),
            "source": src,
            "cleaned_by": "commentbot corpus tokens --level char (default config)",
            "pipeline": "lower(); sent_tokenize; word_tokenize per sentence (Punkt again, NLTKWordTokenizer)",
            "comments": len(comments),
            "sentences": len(records),
            "abbreviations": abbreviations,
            "sentence_starters": starters,
            "url_token": URL_TOKEN,
        }
        with open(os.path.join(ROOT, dst), "w", encoding="utf-8") as f:
            for rec in [header] + records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print("%s: %d comments, %d sentences → %s" % (src, len(comments), len(records), dst))


if __name__ == "__main__":
    main()
