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
    "Inventory": ["inventory_policy", "simulate_inventory"],
    "Nightly run": ["run_nightly", "quarantine", "quarantine_items"],
    "Demand signals": ["classify_demand", "check_data", "signals.DataCheck", "detect_stockouts",
                       "mark_stockouts", "estimate_demand", "forecast_drivers", "Drivers",
                       "signals.DriverForecast", "holiday_calendar"],
    "Data sets": ["datasets.synthetic_retail", "datasets.load_dataset", "datasets.shared_data_dir"],
    "Models": ["models.make_model", "models.resolve_models", "models.MODEL_NAMES"],
}


def _obj(path: str):
    obj = so
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def render() -> str:
    out = ["# API reference", "", "Generated from the docstrings by `python docs/gen_api.py`; do not edit by hand.", ""]
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
