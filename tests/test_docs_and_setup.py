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


def _contract_rows(section: str) -> dict[str, str]:
    """``column -> table row`` of one ``### section`` of docs/data_contract.md."""
    text = (ROOT / "docs" / "data_contract.md").read_text()
    body = re.search(rf"^### {re.escape(section)}[^\n]*\n(.*?)(?=^##)", text, re.S | re.M).group(1)
    rows = {}
    for line in body.splitlines():
        for name in re.findall(r"`([a-z_<>-]+)`", line.split("|")[1] if line.startswith("|") else ""):
            rows[name] = line
    return rows


def _default_text(value) -> str:
    if isinstance(value, str):
        return f"`{value}`"
    if value == float("inf"):
        return "inf"
    return f"{value:g}"


def test_data_contract_lists_every_rule_column_and_its_default():
    """docs/data_contract.md against the one rule table: each column, and each default, is there."""
    import stockopt._rules as rules

    sections = {"ITEMS": "items", "ORDER_ITEMS": "items", "STOCK": "stock", "OPEN_ORDERS": "open orders",
                "SUPPLIERS": "suppliers"}
    checked = 0
    for const, section in sections.items():
        table = getattr(rules, const, None)  # the supply tables arrive with the replenishment stage
        if table is None:
            continue
        rows = _contract_rows(section)
        for name, rule in table.items():
            assert name in rows, (section, name)
            default = rule.default
            given = isinstance(default, str) or (default is not None and default == default)  # NaN: none
            if rule.nullable and given:
                cell = _default_text(default)
                assert f"| {cell} |" in rows[name] or f"| {cell} (" in rows[name], (section, name, rows[name])
            checked += 1
    assert checked >= len(rules.ITEMS)
    sales = _contract_rows("sales (long format)")
    assert {"unique_id", "ds", "y"} <= set(sales)
    x_future = _contract_rows("X_future")
    assert {"unique_id", "ds", "<driver>"} <= set(x_future) and len(rules.X_FUTURE) == 3
    text = (ROOT / "docs" / "data_contract.md").read_text()
    for check in rules.X_FUTURE_CHECKS.values():  # every quarantine reason is documented
        assert f"`{check.what}`" in text, check.what


def test_data_contract_lists_every_output_column():
    import datetime as dt

    import pyarrow as pa

    import stockopt as so

    demand = pa.table({"unique_id": ["a"], "demand_mean": [3.0], "demand_std": [1.0]})
    policy = so.inventory_policy(demand, pa.table({"unique_id": ["a"], "lead_time": [2.0]}))
    rows = _contract_rows("policy (`policy.parquet`, `so.inventory_policy`)")
    assert set(policy.column_names) <= set(rows), set(policy.column_names) - set(rows)
    sales = pa.table({"unique_id": ["a", "a"], "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
                      "y": [1.0, -1.0]})
    _, report = so.quarantine(sales, freq="D")
    rows = _contract_rows("quarantine (`quarantine.parquet`, `so.quarantine` / `so.quarantine_items`)")
    assert set(report.column_names) | {"table"} <= set(rows)
