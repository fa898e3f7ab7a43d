# iwae-lab: the two commands a newcomer needs are `make run` and `make test`; both set up first.
SHELL := /bin/bash
PROFILE ?= $(or $(IWAE_PROFILE),paper)
# Where the profile's runs are: paper reads the results shipped in data/results/paper/, the others train
# into data/runs/ (RESULTS=DIR overrides both).
DEFAULT_RESULTS := $(if $(filter paper,$(PROFILE)),data/results/paper,data/runs)
RESULTS ?= $(or $(IWAE_RESULTS_DIR),$(DEFAULT_RESULTS))
VENV := .venv/bin
LAB_PORT ?= 8888
TB_PORT ?= 6006

.PHONY: setup run test test-browser notebook publish-notebooks lab tensorboard clean distclean typecheck

setup:
	@bash scripts/setup.sh

## Main job: execute every notebook headless on $(PROFILE) (default paper: the shipped results, nothing
## trained; IWAE_PROFILE=quick trains its grid first): executed copies in notebooks/executed/$(PROFILE)/,
## figures in figures/$(PROFILE)/ (both git-ignored; the tracked notebooks are not written).
run: setup
	@IWAE_PROFILE=$(PROFILE) IWAE_RESULTS_DIR=$(RESULTS) bash scripts/run-notebooks.sh

## Type check + unit tests + notebook smoke tests (Node's test runner).
test: setup
	@bash scripts/setup-bench.sh
	@bash scripts/test.sh

## Only the end-to-end browser test: JupyterLab + Chromium, notebooks 01 and 03 on the smoke profile.
test-browser: setup
	@TF_CPP_MIN_LOG_LEVEL=2 node --import tsx --test test/browser/*.test.ts

## One notebook headless with its parameters injected, e.g. `make notebook NB=03 PROFILE=smoke`
## (NB: a notebook's number or file name; copy in notebooks/executed/$(PROFILE)/).
notebook: setup
	@nb="$$(ls notebooks/$(NB)*.ipynb 2>/dev/null | head -1)"; \
	  if [ -z "$(NB)" ] || [ -z "$$nb" ]; then echo "make notebook: NB=<number or name> of a notebook in notebooks/ (got '$(NB)')" >&2; exit 2; fi; \
	  TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/python scripts/execute-notebook.py "$$nb" -p profile $(PROFILE) -p resultsDir $(RESULTS)

## Static copies of notebooks/executed/$(PROFILE)/ for a code host: notebooks/published/ (commit them).
publish-notebooks:
	@$(VENV)/python scripts/publish-notebooks.py $(PROFILE)

typecheck:
	@node_modules/.bin/tsc --noEmit -p tsconfig.json

## JupyterLab with the project's TypeScript kernel (iwae-lab); the kernels see PROFILE and RESULTS as
## the notebooks' parameter defaults. `make lab LAB_PORT=9000 PROFILE=smoke`.
lab: setup
	@IWAE_PROFILE=$(PROFILE) IWAE_RESULTS_DIR=$(RESULTS) $(VENV)/jupyter lab --ServerApp.root_dir=. \
	  --LabApp.default_url=/lab/tree/notebooks --port=$(LAB_PORT) \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## TensorBoard over every run's event files (default: the profile's, e.g. the shipped paper runs):
## `make tensorboard TB_PORT=6007 RESULTS=data/runs`.
tensorboard: setup
	@mkdir -p $(RESULTS) && $(VENV)/tensorboard --logdir $(RESULTS) --port $(TB_PORT)

## Remove produced results and figures (keeps the shipped data/results/, node_modules, .venv and the TF wheel cache).
clean:
	rm -rf data/runs data/tmp figures/*.pdf figures/*.png figures/smoke figures/quick figures/paper notebooks/executed notebooks/*.nbconvert.ipynb

## Also remove everything setup installed.
distclean: clean
	rm -rf node_modules .venv .cache data/mnist
