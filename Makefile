# Two commands work from nothing but Python: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoneopt demo --out out/demo

# Debian's chromium for the browser tests and poppler-utils for the report.pdf tests; installed
# when missing and we are root (as in CI).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null \
	      || echo "could not install chromium: browser tests will be skipped"; \
	    else echo "chromium missing and not root: browser tests will be skipped"; fi; }
	@command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils) >/dev/null \
	      || echo "could not install poppler-utils: the report.pdf tests will be skipped"; \
	    else echo "poppler-utils missing and not root: the report.pdf tests will be skipped"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .

# pytest exits 5 when it collects no test: that is a failure here, not a pass.
# --dist loadscope sends each test module to one worker, so a module's expensive module-scoped
# fixtures (whole optimize runs) are made once, not once per worker: 618 -> 583 s on 2 cores.
test: $(STAMP) browser lint
	$(BIN)/python -m pytest -n 2 --dist loadscope -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) out .pytest_cache
