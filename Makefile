# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Both create a local virtual environment (.venv) and install stockopt into it first.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.stockopt-installed

.PHONY: install demo test coverage bench-smoke bench cold-start clean

$(STAMP): pyproject.toml setup.py $(wildcard src/stockopt/_kernels/*.pyx src/stockopt/_kernels/*/*.pyx)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stockopt demo --out demo_out

# the whole suite and the doctests of src/, on every core (pytest-xdist; at most 4 workers, each
# compiles the kernels it needs into numba's shared cache); `$(PY) -m pytest -m "not slow"` is the quick part
test: $(STAMP)
	$(PY) -m pytest -q -n auto --maxprocesses=4

# line coverage of the quick suite with numba's JIT off, so kernel code is measured too; by hand,
# not in CI (kernels run as Python: ~30 min; the contract battery, which runs every model ten ways,
# would take hours as Python and is left out); the second report is the kernels alone
coverage: $(STAMP)
	NUMBA_DISABLE_JIT=1 $(PY) -m coverage run -m pytest -q -m "not slow" -p no:cacheprovider \
		--ignore=tests/test_contract.py
	$(PY) -m coverage report
	$(PY) -m coverage report --include='*/stockopt/_kernels/*'

# pytest-benchmark suites (benchmarks/test_bench_*.py): ours and the peers side by side at a small
# size (what CI runs; results in .benchmarks/smoke.json, then the ratio tables), and at full size by hand
bench-smoke: $(STAMP)
	$(PY) benchmarks/run.py --profile smoke --json .benchmarks/smoke.json

bench: $(STAMP)
	$(PY) benchmarks/run.py --profile full --json .benchmarks/full.json

cold-start: $(STAMP)
	$(PY) benchmarks/cold_start.py

clean:
	rm -rf $(VENV) build demo_out .pytest_cache .benchmarks .coverage
