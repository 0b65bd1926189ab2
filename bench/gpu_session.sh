#!/bin/bash
# The GPU benchmarks of issue 18, prepared for a session that is lent a GPU machine (one short call).
#
#   bash bench/gpu_session.sh prepare   # here: wheels into .whl/, tokenizer and data copies into .gpu/
#                                       # (both git-ignored through .git/info/exclude; about 37 MB)
#   bash bench/gpu_session.sh run       # there (device run, carry [".whl", ".gpu"]): logs under $OUT
#
# No weights reach that machine: the model is XLM-R Large's shape with random weights (bench/random_encoder.py),
# speed does not depend on the weights. What runs, in order of importance, each under its own timeout:
#   1. train_throughput.py --full-length: rx against the plain Trainer at length 128, batch 32, bfloat16, with
#      torch.profiler summaries of each trainer's last steps ($OUT/prof/)
#   2. encode_throughput.py: SentenceTransformer.encode against rx's truncated encoder, fixed batches and
#      --max-tokens (length-bucketed) batches, bfloat16
#   3. train_throughput.py on the short XNLI pairs (the load of the 2026-11-26 measurement)
set -u
cd "$(dirname "$0")/.."
case "${1:-}" in
prepare)
    grep -qx "/.whl/" .git/info/exclude 2>/dev/null || echo "/.whl/" >> .git/info/exclude
    grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
        transformers==5.24.0 sentence-transformers==6.2.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
    encoder=$(bash ../shared/tools/offline-encoder/fetch-multilingual-e5-small.sh)  # XLM-R's tokenizer
    data=../shared/data
    mkdir -p .gpu/tok .gpu/shared/data/{xtreme/xnli,english/cosmosqa,xtreme/panx,xquad,tatoeba/v1}
    cp "$encoder"/{tokenizer.json,tokenizer_config.json,special_tokens_map.json} .gpu/tok/
    for f in xtreme/xnli/dev-en.tsv english/cosmosqa/valid.csv xtreme/panx/train-en.tsv xquad/xquad.en.json; do
        cp "$data/$f" ".gpu/shared/data/$f"
    done
    for lang in deu fra cmn ara rus hin swh; do cp "$data"/tatoeba/v1/tatoeba.$lang-eng.* .gpu/shared/data/tatoeba/v1/; done
    du -sh .whl .gpu
    ;;
run)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 RX_SHARED=$PWD/.gpu/shared
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
    lscpu | grep -E "Model name|^CPU\(s\)" | tee -a "$OUT/gpu.txt"
    python3 -c "import torch, transformers, sentence_transformers as st; print(torch.__version__,
        transformers.__version__, st.__version__)" | tee -a "$OUT/gpu.txt"
    python3 bench/random_encoder.py --shape xlm-roberta-large --tokenizer .gpu/tok --out /tmp/xlmr-large | tail -1
    export RX_MODEL=/tmp/xlmr-large
    cd bench
    timeout 240 python3 train_throughput.py --steps 70 --warm-steps 10 --batch-size 32 --max-length 128 \
        --precision bfloat16 --full-length --repeats 2 --profile "$OUT/prof" > "$OUT/train_full.log" 2>&1
    grep -A12 "^machine" "$OUT/train_full.log"
    timeout 150 python3 encode_throughput.py --layer 14 --sentences 16000 --batch-size 128 --max-tokens 16384 \
        --device cuda --precision bfloat16 --repeats 2 > "$OUT/encode.log" 2>&1
    grep -A14 "^machine" "$OUT/encode.log"
    timeout 120 python3 train_throughput.py --steps 70 --warm-steps 10 --batch-size 32 --max-length 128 \
        --precision bfloat16 --repeats 2 > "$OUT/train_short.log" 2>&1
    grep -A12 "^machine" "$OUT/train_short.log"
    ;;
*)
    echo "usage: bash bench/gpu_session.sh prepare|run" >&2
    exit 2
    ;;
esac
