"""Gather the timings of one `make bench` run into bench/results.json and
print the summary.

Usage: report.py --dir bench --threads N --bin BIN --repeats R
                 --rss-articles N... --rss-sentences K

Timed runs are repeated R times per side (interleaved); seconds are the
median of the rounds and peak RSS the largest. Every round's figures are
kept under "rounds".
"""

import argparse
import json
import os
import platform
import statistics
import subprocess

from sentences import read_tags


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rounds(d, name, repeats):
    """One timed command over the rounds: median seconds, largest peak RSS,
    and each round's figures."""
    runs = [load(f"{d}/{name}-{i}.json") for i in range(1, repeats + 1)]
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "max_rss_kb": max(r["max_rss_kb"] for r in runs),
        "rounds": [r["seconds"] for r in runs],
    }


def count(articles_jsonl):
    articles = sentences = 0
    with open(articles_jsonl, encoding="utf-8") as f:
        for line in f:
            articles += 1
            sentences += len(json.loads(line)["sentences"])
    return articles, sentences


def labels(articles_jsonl):
    """(article id, sentence index, target) → stance label of a run."""
    out = {}
    with open(articles_jsonl, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            for i, s in enumerate(r["sentences"]):
                for t, v in s.get("stance", {}).items():
                    out[(r["id"], i, t)] = v["label"]
    return out


def int8_section(d, repeats):
    """int8 against f32 on the same sentences, and on the domain test split."""
    cold = rounds(d, "cold-int8", repeats)
    ours, theirs = labels(f"{d}/out/articles.jsonl"), labels(f"{d}/out-int8/articles.jsonl")
    same = sum(ours[k] == theirs.get(k) for k in ours)
    all_cold = rounds(d, "cold-int8-all", repeats)
    section = {
        "models": "stance (run --int8)",
        "seconds": cold["seconds"],
        "seconds_by_round": cold["rounds"],
        "peak_rss_mb": cold["max_rss_kb"] / 1024,
        "stance_and_ner": {
            "seconds": all_cold["seconds"],
            "seconds_by_round": all_cold["rounds"],
            "peak_rss_mb": all_cold["max_rss_kb"] / 1024,
        },
        "stance_label_agreement_with_f32": same / len(ours) if ours else None,
        "stance_pairs": len(ours),
    }
    if os.path.exists(f"{d}/ner-tags-int8.jsonl"):
        a, b = read_tags(f"{d}/ner-tags.jsonl"), read_tags(f"{d}/ner-tags-int8.jsonl")
        section["ner_sentence_agreement_with_f32"] = sum(x == y for x, y in zip(a, b)) / len(a)
    test = {}
    for v in ("f32", "int8"):
        r = load(f"{d}/eval-test-{v}.json")["report"]
        test[v] = {"macro_f1": r["macro_f1"], "f_avg": r["f_avg"], "accuracy": r["accuracy"], "n": r["n"]}
    test["macro_f1_change"] = test["int8"]["macro_f1"] - test["f32"]["macro_f1"]
    test["f_avg_change"] = test["int8"]["f_avg"] - test["f32"]["f_avg"]
    section["domain_test_split"] = test
    return section


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def output_of(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--rss-articles", nargs="*", default=[])
    ap.add_argument("--rss-sentences", type=int, required=True)
    args = ap.parse_args()
    d = args.dir

    repeats = args.repeats
    cold, rerun = rounds(d, "cold-f32", repeats), load(f"{d}/rerun.json")
    # The HF script times its own pipelines (model loading excluded); the
    # process time and RSS come from /usr/bin/time.
    hf = load(f"{d}/hf-{repeats}.json")
    hf_runs = [load(f"{d}/hf-{i}.json") for i in range(1, repeats + 1)]
    hf_seconds = statistics.median(r["seconds"] for r in hf_runs)
    hf_rate = statistics.median(r["sentences_per_second"] for r in hf_runs)
    hf_time = rounds(d, "hf-time", repeats)
    articles, sentences = count(f"{d}/out/articles.jsonl")
    sm_rate = sentences / cold["seconds"] if cold["seconds"] else float("inf")
    int8 = int8_section(d, repeats)
    int8_rate = sentences / int8["seconds"] if int8["seconds"] else float("inf")
    int8["sentences_per_second"] = int8_rate
    all8 = int8["stance_and_ner"]
    all8["sentences_per_second"] = sentences / all8["seconds"] if all8["seconds"] else float("inf")
    rss = {}
    for n in args.rss_articles:
        r = load(f"{d}/rss-{n}.json")
        a, s = count(f"{d}/rss-out-{n}/articles.jsonl")
        rss[n] = {
            "articles": a,
            "sentences": s,
            "seconds": r["seconds"],
            "peak_rss_mb": r["max_rss_kb"] / 1024,
        }

    results = {
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "threads": args.threads,
            "load_average_at_end": os.getloadavg(),
            "os": platform.platform(),
        },
        "versions": {
            "stancemine": output_of(args.bin, "--version"),
            "rustc": output_of("rustc", "--version"),
            "python": platform.python_version(),
            **hf["versions"],
        },
        "corpus": {"articles": articles, "sentences": sentences, "targets": hf["targets"]},
        "stages": ["ner", "stance"] if hf["ner"] else ["stance"],
        "repeats": repeats,
        "stancemine": {
            "seconds": cold["seconds"],
            "seconds_by_round": cold["rounds"],
            "sentences_per_second": sm_rate,
            "peak_rss_mb": cold["max_rss_kb"] / 1024,
        },
        "hf": {
            "seconds": hf_seconds,
            "seconds_by_round": [r["seconds"] for r in hf_runs],
            "process_seconds": hf_time["seconds"],
            "sentences_per_second": hf_rate,
            "ner_sentences_per_second": statistics.median(
                r["ner_sentences_per_second"] or 0 for r in hf_runs
            ) if hf["ner"] else None,
            "stance_pairs_per_second": statistics.median(r["stance_pairs_per_second"] for r in hf_runs),
            "batch_size": hf["batch_size"],
            "peak_rss_mb": hf_time["max_rss_kb"] / 1024,
        },
        "stancemine_int8": int8,
        "throughput_ratio": sm_rate / hf_rate,
        "throughput_ratio_int8": int8_rate / hf_rate,
        "throughput_ratio_int8_stance_and_ner": all8["sentences_per_second"] / hf_rate,
        "peak_rss_ratio": cold["max_rss_kb"] / hf_time["max_rss_kb"],
        "rerun": {
            "cold_seconds": cold["seconds"],
            "rerun_seconds": rerun["seconds"],
            "rerun_fraction": rerun["seconds"] / cold["seconds"] if cold["seconds"] else None,
            "rerun_peak_rss_mb": rerun["max_rss_kb"] / 1024,
        },
        "memory_runs": {"sentences_per_article": args.rss_sentences or "all", "peak_rss_by_articles": rss},
        "agreement": hf["agreement"],
    }
    with open(f"{d}/results.json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)

    a = hf["agreement"]
    pct = lambda v: "n/a" if v is None else f"{100 * v:.2f} %"
    rate = lambda v: "n/a" if v is None else f"{v:.1f}/s"
    print(f"machine: {results['machine']['cpu']}, {args.threads} threads")
    print(f"corpus: {articles} articles, {sentences} sentences, {hf['targets']} targets")
    print(f"timings: median of {repeats} interleaved rounds per side")
    if not hf["ner"]:
        print("NER: not in this stancemine run, so not run on the HF side either")
    print(
        f"stancemine run: {cold['seconds']:.1f} s, {sm_rate:.1f} sentences/s, "
        f"peak RSS {cold['max_rss_kb'] / 1024:.0f} MB"
    )
    h = results["hf"]
    print(
        f"HF pipelines:   {h['seconds']:.1f} s, {h['sentences_per_second']:.1f} sentences/s "
        f"(NER {rate(h['ner_sentences_per_second'])}, stance {h['stance_pairs_per_second']:.1f} pairs/s), "
        f"peak RSS {h['peak_rss_mb']:.0f} MB"
    )
    print(
        f"stancemine run --int8: {int8['seconds']:.1f} s, {int8_rate:.1f} sentences/s, "
        f"peak RSS {int8['peak_rss_mb']:.0f} MB"
    )
    print(
        f"stancemine run --int8=stance,ner: {all8['seconds']:.1f} s, "
        f"{all8['sentences_per_second']:.1f} sentences/s, peak RSS {all8['peak_rss_mb']:.0f} MB"
    )
    print(
        f"throughput ratio stancemine / HF: {results['throughput_ratio']:.2f} (f32), "
        f"{results['throughput_ratio_int8']:.2f} (--int8), "
        f"{results['throughput_ratio_int8_stance_and_ner']:.2f} (--int8=stance,ner)"
    )
    t = int8["domain_test_split"]
    print(
        f"int8 vs f32: stance labels {pct(int8['stance_label_agreement_with_f32'])} the same, "
        f"NER spans (--int8=stance,ner) {pct(int8.get('ner_sentence_agreement_with_f32'))} of sentences the same; "
        f"domain test macro-F1 {t['f32']['macro_f1']:.3f} -> {t['int8']['macro_f1']:.3f}, "
        f"F_avg {t['f32']['f_avg']:.3f} -> {t['int8']['f_avg']:.3f}"
    )
    print(
        f"unchanged re-run: {rerun['seconds']:.2f} s = "
        f"{100 * results['rerun']['rerun_fraction']:.1f} % of the cold run"
    )
    for n, r in rss.items():
        print(
            f"memory run {r['articles']} articles ({r['sentences']} sentences): "
            f"peak RSS {r['peak_rss_mb']:.0f} MB in {r['seconds']:.1f} s"
        )
    print(
        f"agreement: stance {pct(a['stance'])} of {a['stance_pairs']} (target, sentence) pairs; "
        f"NER {pct(a['ner'])} of {a['ner_sentences']} sentences "
        f"(same decoding; run's word-level decoding vs HF 'simple': {pct(a.get('ner_word_decoding_vs_hf_simple'))})"
    )
    print(f"written: {d}/results.json")


if __name__ == "__main__":
    main()
