# iwae-lab: the two commands a newcomer needs are `make run` and `make test`; both set up first.
SHELL := /bin/bash
PROFILE ?= $(or $(IWAE_PROFILE),quick)
RESULTS ?= data/runs
VENV := .venv/bin

.PHONY: setup run test lab tensorboard clean distclean typecheck

setup:
	@bash scripts/setup.sh

## Main job: execute every notebook headless on $(PROFILE), figures to figures/*.pdf.
run: setup
	@IWAE_PROFILE=$(PROFILE) bash scripts/run-notebooks.sh

## Type check + unit tests + notebook smoke tests (Node's test runner).
test: setup
	@bash scripts/setup-bench.sh
	@bash scripts/test.sh

typecheck:
	@node_modules/.bin/tsc --noEmit -p tsconfig.json

## JupyterLab with the project's TypeScript kernel (iwae-lab).
lab: setup
	@$(VENV)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## TensorBoard over every run's event files.
tensorboard: setup
	@mkdir -p $(RESULTS) && $(VENV)/tensorboard --logdir $(RESULTS)

## Remove produced results and figures (keeps node_modules, .venv and the TF wheel cache).
clean:
	rm -rf $(RESULTS) data/tmp figures/*.pdf figures/*.png notebooks/*.nbconvert.ipynb

## Also remove everything setup installed.
distclean: clean
	rm -rf node_modules .venv .cache data/mnist
