"""The Hugging Face side of `make bench`: transformers pipelines over the
sentences stancemine wrote, with the same weights (the exported HF model
directories), timed; then label agreement with stancemine's output.

Usage: hf_run.py --articles OUT/articles.jsonl --targets targets.toml
                 --ner-model DIR --stance-model DIR --threads N
                 [--ner-tags PIECE_TAGS.jsonl --ner-word-tags WORD_TAGS.jsonl]
                 --out JSON

NER agreement is checked against --ner-tags (`stancemine tag ner --by-piece`
over the same sentences: the model's own spans, decoded piece by piece as
aggregation "simple" does), since `run` reads each word's first piece,
cleans spans up and links actors after the model, which HF's pipeline does
not. --ner-word-tags (`tag ner`, run's decoding) gives the share of
sentences where the two decodings find the same spans.
"""

import argparse
import json
import time
import tomllib
import warnings

import torch
import transformers
from transformers import pipeline

from sentences import read_tags


def read_articles(path):
    """Sentences in file order, each with its article's entities inside it,
    and whether stancemine ran NER (an article without entities has none)."""
    sentences = []
    ran_ner = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            entities = r.get("entities", [])
            ran_ner |= "ner" in r.get("models", {})
            for s in r["sentences"]:
                inside = {
                    (e["type"], e["start"] - s["start"], e["end"] - s["start"])
                    for e in entities
                    if s["start"] <= e["start"] and e["end"] <= s["end"]
                }
                sentences.append(
                    {
                        "text": s["text"],
                        "stance": {t: v["label"] for t, v in s.get("stance", {}).items()},
                        "entities": inside,
                    }
                )
    return sentences, ran_ner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--ner-model", required=True)
    ap.add_argument("--stance-model", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--ner-tags")
    ap.add_argument("--ner-word-tags")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    # transformers 4.44 warns about a tokenizer default it will change later.
    warnings.filterwarnings("ignore", category=FutureWarning)
    torch.set_num_threads(args.threads)
    sentences, ran_ner = read_articles(args.articles)
    texts = [s["text"] for s in sentences]
    with open(args.targets, "rb") as f:
        targets = tomllib.load(f)["target"]
    with open(f"{args.stance_model}/config.json", encoding="utf-8") as f:
        max_length = json.load(f)["stancemine"]["max_length"]

    # Timed from model load to the last prediction, as stancemine's run is.
    t0 = time.perf_counter()
    ner_out = []
    if ran_ner:
        ner = pipeline(
            "token-classification",
            model=args.ner_model,
            aggregation_strategy="simple",
            device=-1,
        )
        ner_out = ner(texts, batch_size=args.batch_size)
    t1 = time.perf_counter()
    stance = pipeline("text-classification", model=args.stance_model, device=-1)
    pairs = [{"text": t["description"], "text_pair": s} for t in targets for s in texts]
    stance_out = stance(
        pairs,
        batch_size=args.batch_size,
        truncation="only_second",
        max_length=max_length,
    )
    t2 = time.perf_counter()

    n = len(texts)
    stance_agree = stance_total = 0
    for ti, t in enumerate(targets):
        for si, s in enumerate(sentences):
            ours = s["stance"].get(t["id"])
            if ours is None:
                continue
            stance_total += 1
            stance_agree += ours == stance_out[ti * n + si]["label"]
    ner_agree = 0
    ner_disagreements = []
    ours_by_sentence = [s["entities"] for s in sentences]
    if args.ner_tags:
        ours_by_sentence = read_tags(args.ner_tags)
        if len(ours_by_sentence) != n:
            raise SystemExit(f"{args.ner_tags}: {len(ours_by_sentence)} sentences, expected {n}")
    word_decoding_agree = None
    if ran_ner and args.ner_word_tags:
        words = read_tags(args.ner_word_tags)
        word_decoding_agree = sum(
            w == {(e["entity_group"], e["start"], e["end"]) for e in ents}
            for w, ents in zip(words, ner_out)
        ) / n
    if ran_ner:
        for s, ours, ents in zip(sentences, ours_by_sentence, ner_out):
            theirs = {(e["entity_group"], e["start"], e["end"]) for e in ents}
            if theirs == ours:
                ner_agree += 1
            elif len(ner_disagreements) < 5:
                ner_disagreements.append(
                    {
                        "sentence": s["text"],
                        "stancemine": sorted(ours),
                        "hf": sorted(theirs),
                    }
                )

    result = {
        "sentences": n,
        "targets": len(targets),
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "ner_seconds": t1 - t0,
        "stance_seconds": t2 - t1,
        "seconds": t2 - t0,
        "sentences_per_second": n / (t2 - t0),
        "ner": ran_ner,
        "ner_sentences_per_second": n / (t1 - t0) if ran_ner else None,
        "stance_pairs_per_second": len(pairs) / (t2 - t1),
        "agreement": {
            "stance_pairs": stance_total,
            "stance": stance_agree / stance_total if stance_total else None,
            "ner_sentences": n if ran_ner else 0,
            "ner_compared_with": "stancemine tag ner --by-piece (model spans)" if args.ner_tags else "run entities",
            "ner_word_decoding_vs_hf_simple": word_decoding_agree,
            "ner": ner_agree / n if ran_ner and n else None,
            "ner_examples": ner_disagreements,
        },
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
