"""Generate docs/api.md from the docstrings of the public namespace (``python docs/gen_api.py``).

tests/test_docs.py checks that the committed page matches what this script produces.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import stockopt as so

SECTIONS = {
    "Forecasting": ["forecast", "cross_validation", "evaluate", "simulate"],
    "Data": ["group_series", "GroupedSeries", "GroupReport", "parse_freq", "infer_freq", "Frequency"],
    "Inventory": ["inventory_policy", "simulate_inventory", "demand_summary", "history_profile",
                  "optimize_service", "service_frontier"],
    "Replenishment": ["replenish_plan", "replenish", "ReplenishmentPlan", "alerts", "project_kpis",
                      "ProjectedKPIs"],
    "Nightly run": ["run_nightly", "PlanResult", "quarantine", "quarantine_items", "report"],
    "Data sets": ["datasets.synthetic_retail", "datasets.synthetic_supply", "datasets.load_dataset",
                  "datasets.shared_data_dir"],
    "Models": ["models.make_model", "models.resolve_models", "models.MODEL_NAMES"],
}


def _obj(path: str):
    obj = so
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def short_signature(obj) -> str:
    """``name(a, b, *, c=1)``: parameters and defaults without annotations (the table's style)."""
    parts = []
    star = False
    for p in inspect.signature(obj).parameters.values():
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}")
    return f"{obj.__name__}({', '.join(parts)})"


def table() -> list[str]:
    """One row per public function: data first, then ``h`` where there is one, then keyword-only options."""
    out = ["| function | signature |", "|---|---|"]
    for names in SECTIONS.values():
        for name in names:
            obj = _obj(name)
            if inspect.isfunction(obj):
                out.append(f"| `so.{name}` | `{short_signature(obj)}` |")
    return out


def render() -> str:
    out = ["# API reference", "",
           "Generated from the docstrings by `python docs/gen_api.py`; do not edit by hand.", "",
           "Every function takes its data first, then the horizon `h` where there is one, then keyword-only",
           "options (after `*`); the same option has the same name everywhere (see `CHANGELOG.md`).", ""]
    out += table() + [""]
    for title, names in SECTIONS.items():
        out += [f"## {title}", ""]
        for name in names:
            obj = _obj(name)
            if isinstance(obj, tuple):
                out += [f"### `so.{name}`", "", ", ".join(f"`{x}`" for x in obj), ""]
                continue
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                sig = ""
            out += [f"### `so.{name}{sig}`", "", "```text", inspect.cleandoc(obj.__doc__ or "(no docstring)"), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    target = Path(__file__).with_name("api.md")
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
