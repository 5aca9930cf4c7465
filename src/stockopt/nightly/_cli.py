"""What ``stockopt plan`` does around :func:`stockopt.plan`: progress bar, one-line errors, exit codes.

Exit codes (documented in docs/scale.md):

==  =========================================================================
0   every series planned
1   the run could not start or failed (bad input, option or output folder)
2   bad command line (click's usage error)
3   planned, but some series or items were quarantined (see quarantine.parquet)
4   nothing could be planned: every series was quarantined
==  =========================================================================
"""

from __future__ import annotations

import sys
from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_QUARANTINED = 3
EXIT_NOTHING_PLANNED = 4

__all__ = ["run_plan_command", "exit_code", "EXIT_OK", "EXIT_ERROR", "EXIT_QUARANTINED",
           "EXIT_NOTHING_PLANNED"]


def exit_code(summary: dict[str, Any]) -> int:
    """0 when every series and item was planned, 3 when some were quarantined.

    Examples
    --------
    >>> exit_code({"series_quarantined": 0, "items_quarantined": 0}), exit_code({"series_quarantined": 2})
    (0, 3)
    """
    set_aside = sum(int(summary.get(k) or 0) for k in ("series_quarantined", "items_quarantined",
                                                         "items_quarantined_supply"))
    return EXIT_QUARANTINED if set_aside else EXIT_OK


def run_plan_command(tables: dict[str, Any], plan_opts: dict[str, Any], options: dict[str, Any], *,
                     quiet: bool, debug: bool, echo: Any) -> tuple[int, dict[str, Any] | None]:
    """Run the plan for the command line; returns the exit code and the summary (None on failure).

    Errors of stockopt print one line (``--debug``: the traceback too); a progress bar of the
    partitions goes to stderr unless ``quiet``.
    """
    import click

    from stockopt.errors import EmptyInputError, StockoptError
    from stockopt.nightly._plan import _plan

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="partitions", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        res = _plan(tables, plan_opts, options, executor=None, progress=None if quiet else progress)
    except StockoptError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        nothing = isinstance(exc, EmptyInputError) and "every series was quarantined" in str(exc)
        click.echo(f"stockopt plan: {type(exc).__name__}: {exc}", err=True)
        return (EXIT_NOTHING_PLANNED if nothing else EXIT_ERROR), None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return exit_code(res.summary), res.summary
