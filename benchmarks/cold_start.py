"""Numba cold start: the first call in a fresh process, without and with the on-disk kernel cache.

Each measurement runs a new Python process that imports stockopt and forecasts a tiny table with
the fast models (and AutoModel's classification), timing the import and the first call.  "no
cache" points NUMBA_CACHE_DIR at an empty folder; "cached" runs again with the folder the first
run filled.  A second call in the same process is timed too: that is the warm cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CODE = r"""
import json, time, warnings
t0 = time.perf_counter()
import stockopt as so
t1 = time.perf_counter()
sales = so.datasets.synthetic_retail(20, 120, seed=0)
models = MODELS
warnings.simplefilter("ignore")
t2 = time.perf_counter()
so.forecast(sales, h=7, models=models, level=[80])
t3 = time.perf_counter()
so.forecast(sales, h=7, models=models, level=[80])
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_call": t3 - t2, "second_call": t4 - t3}))
"""

FAMILIES = {
    "fast models": ["naive", "seasonal_naive", "ses_optimized", "croston_sba", "tsb", "adida"],
    "auto_theta": ["auto_theta"],
    "auto_ets": ["auto_ets"],
}


def run(models: list[str], cache_dir: str) -> dict[str, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", CODE.replace("MODELS", repr(models))], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'models':<14} {'cache':<9} {'import s':>9} {'first call s':>13} {'warm call s':>12}")
    for name, models in FAMILIES.items():
        with tempfile.TemporaryDirectory() as d:
            for label in ("no cache", "cached"):
                try:
                    r = run(models, d)
                except subprocess.CalledProcessError as e:
                    print(f"{name:<14} {label:<9} failed: {e.stderr.strip().splitlines()[-1:]}")
                    break
                print(f"{name:<14} {label:<9} {r['import']:>9.2f} {r['first_call']:>13.2f} {r['second_call']:>12.3f}")


if __name__ == "__main__":
    main()
