#!/usr/bin/env bash
# `make bench`: stancemine's full pipeline against Hugging Face pipelines on
# the same sentences, weights, machine and thread count; see README "Benchmark".
#
# Environment (all optional):
#   BENCH_THREADS      intra-op threads for both sides (default 2)
#   BENCH_REPEATS      timed runs of each side, interleaved; medians are reported
#                      (default 3; one run of each side is ±15 % on this machine)
#   BENCH_SENTENCES    minimum sentences in the throughput corpus (default 5000)
#   BENCH_RSS_ARTICLES article counts of the memory runs (default "1000 10000"; empty: none)
#   BENCH_RSS_SENTENCES sentences kept per article in the memory runs
#                      (default 1; 0 = whole articles, ~36 per article, slower)
#   BENCH_VENV         the Python venv (default .bench-venv, created once)
#   BENCH_MODELS       folder with stance/ and ner/ model dirs (default models)
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${BENCH_THREADS:-2}
repeats=${BENCH_REPEATS:-3}
min_sentences=${BENCH_SENTENCES:-5000}
rss_articles=${BENCH_RSS_ARTICLES-"1000 10000"}
rss_sentences=${BENCH_RSS_SENTENCES:-1}
venv=${BENCH_VENV:-.bench-venv}
models=${BENCH_MODELS:-models}
bin=target/release/stancemine
work=bench
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

say() { echo "bench: $*" >&2; }

benches/venv.sh "$venv"
py="$venv/bin/python"
cargo build --release --locked
# NER runs when `run` has it and a model is there; HF then runs it too.
with_ner=false
if "$bin" run --help | grep -q -- '--no-ner' && [ -f "$models/ner/config.json" ]; then
    with_ner=true
fi
exports=("$models/stance")
$with_ner && exports+=("$models/ner")
for m in "${exports[@]}"; do
    [ -f "$m/config.json" ] || { say "$m: no model (train or fetch it first)"; exit 2; }
    say "exporting $m to $m/hf"
    "$bin" -q models export "$m" --out "$m/hf"
done
$with_ner || say "NER is not part of this stancemine run: both sides run stance only"

mkdir -p "$work"
# The demo corpus as stancemine reads it, replicated with distinct ids.
rm -rf "$work/demo"
demo_flags=(--no-stance)
$with_ner && demo_flags+=(--no-ner)
"$bin" -q run corpus --out "$work/demo" "${demo_flags[@]}"
mkdir -p "$work/corpus"
"$py" benches/corpus.py "$work/demo/articles.jsonl" "$work/corpus/bench.jsonl" \
    --min-sentences "$min_sentences" >/dev/null

# timed OUT_JSON CMD...: wall seconds and peak RSS of one command.
timed() {
    local out=$1
    shift
    /usr/bin/time -f '{"seconds": %e, "max_rss_kb": %M}' -o "$out" "$@"
}

run_args=(--models "$models" --threads "$threads" -q)

# What the agreement and int8 checks read (untimed, once).
checks() {
    # The NER model's own spans (before run's clean-up and actor linking), which
    # is what HF's pipeline gives. Decoded piece by piece like HF's aggregation
    # "simple", they check the forward itself; decoded word by word (run's way),
    # they show how far the two decodings differ, and what int8 changes.
    "$py" benches/sentences.py "$work/out/articles.jsonl" "$work/sentences.jsonl"
    if $with_ner; then
        say "stancemine: NER model spans of every sentence (by piece; by word, f32 and int8)"
        tag=("$bin" -q tag ner "$work/sentences.jsonl" --model "$models/ner" --threads "$threads")
        "${tag[@]}" --by-piece --out "$work/ner-tags-piece.jsonl"
        "${tag[@]}" --out "$work/ner-tags.jsonl"
        "${tag[@]}" --int8 --out "$work/ner-tags-int8.jsonl"
        ner_tags=(--ner-tags "$work/ner-tags-piece.jsonl" --ner-word-tags "$work/ner-tags.jsonl")
    fi
    # int8's accuracy change on the domain test split (the labels it changes).
    for v in f32 int8; do
        flag=()
        [ "$v" = int8 ] && flag=(--int8)
        "$bin" -q eval stance --data data/stance/test.jsonl --model "$models/stance" \
            --threads "$threads" "${flag[@]}" > "$work/eval-test-$v.json"
    done
}

hf_run() {
    timed "$work/hf-time-$1.json" "$py" benches/hf_run.py \
        --articles "$work/out/articles.jsonl" --targets targets.toml \
        --ner-model "$models/ner/hf" --stance-model "$models/stance/hf" \
        --threads "$threads" "${ner_tags[@]}" --out "$work/hf-$1.json"
}
# Each round times stancemine (f32, --int8, --int8=stance,ner) and the HF
# pipelines once, cold; rounds interleave the sides so that a slow spell of
# the machine does not land on one side only.
rm -f "$work"/cold-*.json "$work"/hf-*.json "$work"/hf-time-*.json
ner_tags=()
for round in $(seq 1 "$repeats"); do
    say "round $round of $repeats: stancemine cold runs (f32, --int8, --int8=stance,ner)"
    rm -rf "$work/out" "$work/out-int8" "$work/out-int8-all"
    timed "$work/cold-f32-$round.json" "$bin" run "$work/corpus" --out "$work/out" "${run_args[@]}"
    timed "$work/cold-int8-$round.json" "$bin" run "$work/corpus" --out "$work/out-int8" "${run_args[@]}" --int8
    timed "$work/cold-int8-all-$round.json" "$bin" run "$work/corpus" --out "$work/out-int8-all" "${run_args[@]}" --int8=stance,ner
    if [ "$round" = 1 ]; then
        say "stancemine: unchanged re-run"
        timed "$work/rerun.json" "$bin" run "$work/corpus" --out "$work/out" "${run_args[@]}"
        checks
    fi
    say "round $round of $repeats: Hugging Face pipelines over the same sentences"
    hf_run "$round"
done

rss_runs=()
for n in $rss_articles; do
    say "stancemine: memory run over $n articles"
    "$py" benches/corpus.py "$work/demo/articles.jsonl" "$work/rss-$n.jsonl" \
        --articles "$n" --sentences "$rss_sentences" >/dev/null
    rm -rf "$work/rss-out-$n"
    timed "$work/rss-$n.json" "$bin" run "$work/rss-$n.jsonl" --out "$work/rss-out-$n" "${run_args[@]}"
    rss_runs+=("$n")
done

"$py" benches/report.py --dir "$work" --threads "$threads" --bin "$bin" --repeats "$repeats" \
    --rss-articles "${rss_runs[@]}" --rss-sentences "$rss_sentences"
