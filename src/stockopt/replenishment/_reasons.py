"""The ``reason`` sentence of every order line, built column-wise with Arrow compute (no per-row Python).

Example: ``position 12 (on hand 8 + on order 4) <= reorder point 18; up to 40 -> 28; 3 packs of 12 =
36; +1 pack to reach the supplier minimum of 500``.  Parts: the position and what it is made of;
the trigger (``< order-up-to L -> need`` for order-up-to policies, ``<= reorder point s; up to L ->
need`` for (s, S) and (s, nQ)); the packs; the MOQ, cap or relaxation that shaped them; and the
change made by the supplier's constraints.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def num(x: np.ndarray, digits: int = 1) -> pa.Array:
    """Numbers as short text: rounded to ``digits`` decimals, no trailing ``.0``."""
    x = np.round(np.asarray(x, dtype=np.float64), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return pa.array(x).cast(pa.string())


def reasons(
    *,
    y,
    on_hand,
    on_order,
    backorders,
    reserved,
    trigger_rs,
    reorder,
    level,
    need,
    pk,
    k_unc,
    kmin,
    moq,
    cap_kind,
    cap_units,
    relax,
    k_fin,
    change_kind,
    change_amount,
    trucks,
) -> pa.Array:
    """One sentence per line (all arguments are arrays over the lines).

    ``change_kind`` names, per line, the supplier constraint that changed the packs: ``"min"`` (the
    minimum order value ``change_amount``), ``"bud"`` (the supplier budget ``change_amount``),
    ``"tru"`` (trucks; ``trucks`` of them), ``"glo"`` (the global budget) or ``""``.
    """
    n = len(y)
    if n == 0:
        return pa.array([], pa.string())

    def cat(*parts) -> pa.Array:
        arrs = [
            pa.array(np.full(n, p, dtype=object), pa.string()) if isinstance(p, str) else p for p in parts
        ]
        return pc.binary_join_element_wise(*arrs, "")

    def when(mask, *parts) -> pa.Array:
        return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), cat(*parts), "")

    def pick(mask, a, b) -> pa.Array:
        return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)

    pos = cat(
        "position ",
        num(y),
        " (on hand ",
        num(on_hand),
        when(on_order > 0, " + on order ", num(on_order)),
        when(backorders > 0, " - backorders ", num(backorders)),
        when(reserved > 0, " - reserved ", num(reserved)),
        ")",
    )
    trig = pick(
        trigger_rs,
        cat(" < order-up-to ", num(level), " -> ", num(need)),
        cat(" <= reorder point ", num(reorder), "; up to ", num(level), " -> ", num(need)),
    )
    q = k_unc * pk
    packs = pick(
        pk == 1, cat("; ", num(q), " units"), cat("; ", num(k_unc, 0), " packs of ", num(pk), " = ", num(q))
    )
    moq_hit = (kmin >= 2) & (k_unc == kmin) & (need < kmin * pk)
    shaping = cat(
        when(moq_hit, " (raised to the minimum order quantity ", num(moq), ")"),
        when(cap_kind == 1, " (capped by the maximum stock ", num(cap_units), ")"),
        when(cap_kind == 2, " (capped at ", num(cap_units), " units sellable within the shelf life)"),
        when(relax == 1, " (above the maximum stock: the smallest order does not fit; see warnings)"),
        when(relax == 2, " (more than sells within the shelf life: the smallest order; see warnings)"),
    )
    d = np.asarray(k_fin - k_unc)
    word = pick(np.abs(d) == 1, cat(" pack "), cat(" packs "))
    kind = np.asarray(change_kind)
    amount = num(change_amount, 2)
    other = cat("for the supplier's constraints")
    why_up = pick(
        kind == "min",
        cat("to reach the supplier minimum of ", amount),
        pick(kind == "tru", cat("to fill ", num(trucks, 0), " truck(s)"), other),
    )
    why_down = pick(
        kind == "bud",
        cat("to stay within the supplier budget of ", amount),
        pick(
            kind == "glo",
            cat("for the global budget"),
            pick(kind == "tru", cat("to fit ", num(trucks, 0), " truck(s)"), other),
        ),
    )
    change = pick(
        d > 0,
        cat("; +", num(d, 0), word, why_up),
        pick(d < 0, cat("; -", num(-d, 0), word, why_down), cat("")),
    )
    return cat(pos, trig, packs, shaping, change)
