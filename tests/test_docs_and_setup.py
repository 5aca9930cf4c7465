"""The README's set-up commands are the ones CI runs, and the API page matches the docstrings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    block = re.search(r"## Set-up.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci_lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert "make test" in ci_lines
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*\n\t.*pytest", makefile, re.M)
    assert re.search(r"^demo: .*\n\t.*stockopt demo", makefile, re.M)


@pytest.mark.slow
def test_api_page_is_generated_from_current_docstrings():
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'docs'); import gen_api; "
                          "print(gen_api.render(), end='')"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert (ROOT / "docs" / "api.md").read_text() == out.stdout, "run python docs/gen_api.py"


def test_package_is_typed_and_has_a_stable_namespace():
    import stockopt as so

    assert (Path(so.__file__).parent / "py.typed").exists()
    for name in so.__all__:
        assert hasattr(so, name), name


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path):
    import warnings

    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## In Python\n\n```python\n(.*?)```", readme, re.S).group(1)
    code = code.replace("n_series=1_000", "n_series=30").replace('out="out/"', f"out={str(tmp_path)!r}")
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README
    fc = scope["fc"]
    assert "AutoModel-q95" in fc.column_names and fc.num_rows == 30 * 28
    assert (tmp_path / "forecast.parquet").exists() and (tmp_path / "policy.parquet").exists()
