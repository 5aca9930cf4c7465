# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Both create a local virtual environment (.venv) and install stockopt into it first.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.stockopt-installed

.PHONY: install demo test bench-smoke bench cold-start clean

$(STAMP): pyproject.toml setup.py $(wildcard src/stockopt/_kernels/*.pyx src/stockopt/_kernels/*/*.pyx)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stockopt demo --out demo_out

test: $(STAMP)
	$(PY) -m pytest -q

# side-by-side ratios against the peers at a small size (what CI prints), and at full size by hand
bench-smoke: $(STAMP)
	$(PY) benchmarks/run.py --profile smoke
	$(PY) benchmarks/floor.py 3000 1000 2

bench: $(STAMP)
	$(PY) benchmarks/run.py --profile full

cold-start: $(STAMP)
	$(PY) benchmarks/cold_start.py

clean:
	rm -rf $(VENV) build demo_out .pytest_cache .benchmarks
