# make demo  - set up .venv (CPU torch first, then the package) and run the main job (a Tatoeba evaluation)
# make test  - set up, materialise the offline encoder when possible, lint (ruff), run every test
# make lint  - ruff check and ruff format --check (the settings are in ruff.toml)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU wheel of torch: installed before anything else so no dependency pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
SHARED ?= ../shared
FETCH_ENCODER := $(SHARED)/tools/offline-encoder/fetch-multilingual-e5-small.sh

.PHONY: setup demo test lint encoder bench clean

setup: $(VENV)/.rx-installed

$(VENV)/.rx-installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev,plot,ray,onnx,openvino,lid,split]"
	touch $@

encoder: setup
	@if [ -f "$(FETCH_ENCODER)" ]; then \
	  PYTHON=$(PY) bash "$(FETCH_ENCODER)" || echo "offline encoder could not be made: integration tests will skip"; \
	else echo "$(FETCH_ENCODER) not found: integration tests will skip"; fi

demo: setup
	PY=$(PY) bash scripts/demo.sh

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: setup encoder lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest -ra -v --durations=15

bench: setup encoder
	$(PY) bench/encode_throughput.py
	$(PY) bench/retrieval_end_to_end.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
