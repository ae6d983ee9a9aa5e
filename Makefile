# stancemine — the two commands a new user needs are `make run` and `make test`.
# Everything else (libtorch, the MiniLM backbone) is installed by scripts/setup.

CARGO ?= cargo
BIN := target/release/stancemine
CORPUS ?= corpus
OUT ?= out

.PHONY: all setup build run test lint clean

all: build

setup:
	@bash scripts/setup

build: setup
	$(CARGO) build --release --locked

# The Hugging Face-layout copies of the models (full weights), assembled
# from the backbone and the shipped heads.
models/stance/hf/model.safetensors: models/stance/head.safetensors models/stance/config.json | build
	$(BIN) models export models/stance --out models/stance/hf

models/ner/hf/model.safetensors: models/ner/head.safetensors models/ner/config.json | build
	$(BIN) models export models/ner --out models/ner/hf

run: build models/stance/hf/model.safetensors models/ner/hf/model.safetensors
	$(BIN) run $(CORPUS) --out $(OUT)

test: setup
	$(CARGO) test --release --locked

lint: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --release --locked --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf $(OUT)
