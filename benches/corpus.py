"""Bench corpora: the demo corpus (as stancemine ingested it) replicated
into one JSONL file with a distinct id per copy.

Usage: corpus.py DEMO_ARTICLES_JSONL OUT_JSONL (--min-sentences N | --articles N)
                 [--sentences K]

--sentences K keeps each copy's text up to the end of its K-th sentence
(0 = whole article), so a many-article corpus for the memory runs stays
quick to process.
"""

import argparse
import json
import sys


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("demo")
    ap.add_argument("out")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--min-sentences", type=int)
    group.add_argument("--articles", type=int)
    ap.add_argument("--sentences", type=int, default=0)
    args = ap.parse_args()

    demo = []
    with open(args.demo, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text, sentences = r["text"], r["sentences"]
            if args.sentences and len(sentences) > args.sentences:
                # Offsets are in code points, as Python indexes str.
                sentences = sentences[: args.sentences]
                text = text[: sentences[-1]["end"]]
            n = len(sentences)
            demo.append((r, text, n))
    if not demo:
        sys.exit(f"{args.demo}: no articles")

    articles = sentences = 0
    with open(args.out, "w", encoding="utf-8") as out:
        copy = 0
        while True:
            for r, text, n in demo:
                if args.articles is not None and articles >= args.articles:
                    break
                if args.min_sentences is not None and sentences >= args.min_sentences:
                    break
                rec = {
                    "id": f"{r['id']}-b{copy}",
                    "title": r.get("title") or r["id"],
                    "text": text,
                    "author": r.get("author"),
                    "date": r.get("date"),
                    "synthetic": r.get("synthetic", False),
                }
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                articles += 1
                sentences += n
            else:
                copy += 1
                continue
            break
    print(json.dumps({"articles": articles, "sentences_approx": sentences}))


if __name__ == "__main__":
    main()
