#!/usr/bin/env bash
# The main job on defaults: Tatoeba retrieval with multilingual-e5-small over eight XTREME languages from high
# to low resource (de fr zh ar af sw jv te). Uses the Hugging Face Hub when it can be reached; otherwise falls
# back to the offline encoder (../shared/tools/offline-encoder) and the local Tatoeba files (../shared/data),
# and says so. RX_MODEL (hub id or folder) and RX_DATA (a LASER Tatoeba folder) override both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RX="$(dirname "$PY")/rx"
model=${RX_MODEL:-}
data=${RX_DATA:-}
hub=$("$PY" -c "from retrieval_xfer.hub import hub_reachable; print(int(hub_reachable()))")
if [[ -z $model ]]; then
  if [[ $hub == 1 ]]; then
    model=intfloat/multilingual-e5-small
  else
    fetch=../shared/tools/offline-encoder/fetch-multilingual-e5-small.sh
    [[ -f $fetch ]] || { echo "demo: the hub is unreachable and $fetch is missing; set RX_MODEL to a model folder" >&2; exit 1; }
    model=$(PYTHON=$PY bash "$fetch")
    echo "demo: the Hugging Face Hub cannot be reached; fell back to the offline encoder at $model" >&2
  fi
fi
if [[ -z $data && $hub != 1 ]]; then
  data=../shared/data/tatoeba/v1
  [[ -d $data ]] || { echo "demo: the hub is unreachable and $data is missing; set RX_DATA to a Tatoeba folder" >&2; exit 1; }
  echo "demo: fell back to the local Tatoeba files in $data" >&2
fi
exec "$RX" eval tatoeba --model "$model" ${data:+--data-dir "$data"} --langs demo --prompt "query: " \
  --batch-size 64 --output results/demo-tatoeba.json --overwrite
