"""The sentences of a stancemine run, one JSON line each ({"text": ...}),
in file order: the input of `stancemine tag ner` in the agreement check;
and `read_tags`, which reads what `tag ner` wrote (used by hf_run.py and
report.py).

Usage: sentences.py OUT/articles.jsonl SENTENCES.jsonl
"""

import json
import sys


def read_tags(path):
    """Per sentence, the set of (type, start, end) spans `stancemine tag ner` wrote."""
    with open(path, encoding="utf-8") as f:
        return [
            {(e["type"], e["start"], e["end"]) for e in json.loads(line)["entities"]}
            for line in f
        ]


def main() -> None:
    articles, out = sys.argv[1], sys.argv[2]
    with open(articles, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
        for line in f:
            for s in json.loads(line)["sentences"]:
                w.write(json.dumps({"text": s["text"]}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
