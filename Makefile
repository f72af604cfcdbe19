# `make run` runs the platform on the embedded default; `make test` runs the tests.
# Both create .venv/ in the project when it is missing.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test lint bench faults worker gpu-check clean-venv

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python manage.py serve

worker: $(STAMP)
	$(VENV)/bin/python manage.py serve --no-web

# One pytest worker per core (pytest-xdist), a test file to a worker: a file's tests share
# its module fixtures. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/python bench/run_all.py

# On a machine with CUDA: engine vs bare loops on the GPU, the input pipeline, checkpoints
# moved between GPU and CPU (bench/gpu_check.py).
gpu-check: $(STAMP)
	$(VENV)/bin/python bench/gpu_check.py

# Kills workers, restarts PostgreSQL, Redis and the platform, fills the disk (as root).
faults: $(STAMP)
	$(VENV)/bin/python bench/faults.py

clean-venv:
	rm -rf $(VENV)
