"""The Hugging Face side of `make bench`: transformers pipelines over the
sentences stancemine wrote, with the same weights (the exported HF model
directories), timed; then label agreement with stancemine's output.

Usage: hf_run.py --articles OUT/articles.jsonl --targets targets.toml
                 --ner-model DIR --stance-model DIR --threads N --out JSON
"""

import argparse
import json
import time
import tomllib
import warnings

import torch
import transformers
from transformers import pipeline


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
    if ran_ner:
        for s, ents in zip(sentences, ner_out):
            theirs = {(e["entity_group"], e["start"], e["end"]) for e in ents}
            if theirs == s["entities"]:
                ner_agree += 1
            elif len(ner_disagreements) < 5:
                ner_disagreements.append(
                    {
                        "sentence": s["text"],
                        "stancemine": sorted(s["entities"]),
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
