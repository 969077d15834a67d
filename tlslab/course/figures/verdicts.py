"""A verdict grid: several clients against the same hostile servers, one coloured cell per outcome.

Notebook 07 runs its short client and tlslab's ``ClientConnection`` against servers that each break
one rule of RFC 8446; this draws what happened, so the pattern (the short one fooled or crashing,
tlslab refusing with an alert) is seen at a glance rather than read line by line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tlslab.course.figures.handshake import _figure

__all__ = ["VERDICT_COLOURS", "verdict", "verdict_figure"]

# The first word of an outcome says how it went; the colour follows from it.
VERDICT_COLOURS = {
    "fooled": "#ffa8a8",  # accepted what RFC 8446 says to refuse
    "crashed": "#ffd8a8",  # refused, but by accident: no alert, no reason a peer could act on
    "refused": "#b2f2bb",  # refused with the alert RFC 8446 names
    "ok": "#d0ebff",  # an honest server: completing the handshake is right
}


def verdict(outcome: str) -> str:
    """The key of ``VERDICT_COLOURS`` an outcome's first word names (``"refused: ..."`` -> ``refused``).

    Raises:
        ValueError: the outcome starts with none of them.
    """
    word = outcome.split(":", 1)[0].split()[0] if outcome.strip() else ""
    if word not in VERDICT_COLOURS:
        raise ValueError(f"an outcome starts with one of {sorted(VERDICT_COLOURS)}, not {outcome!r}")
    return word


def verdict_figure(
    rows: Sequence[tuple[str, Sequence[str]]], columns: Sequence[str], *, title: str | None = None
) -> Any:
    """One row per case, one column per client; each cell shows its outcome, coloured by ``verdict``.

    Args:
        rows: ``(case name, [outcome for each column])``; an outcome is ``"<verdict>: <detail>"``,
            and the cell shows the detail's first line, cut to 30 characters.
        columns: the clients' names, as headers.
    """
    fig, ax = _figure(2.6 + 3.3 * len(columns), 0.9 + 0.42 * len(rows))
    for j, name in enumerate(columns):
        ax.text(2.6 + 3.3 * j + 1.6, len(rows) + 0.15, name, ha="center", fontsize=10, weight="bold")
    for i, (case, outcomes) in enumerate(rows):
        y = len(rows) - i - 0.5
        ax.text(2.45, y, case, ha="right", va="center", fontsize=9)
        for j, outcome in enumerate(outcomes):
            word = verdict(outcome)
            detail = outcome.split(":", 1)[1].strip() if ":" in outcome else ""
            detail = detail.splitlines()[0] if detail else ""
            text = word + (f": {detail[:30]}" if detail else "")
            x = 2.6 + 3.3 * j
            ax.add_patch(_cell(x, y, VERDICT_COLOURS[word]))
            ax.text(x + 0.1, y, text, va="center", fontsize=8, family="monospace")
    ax.set_xlim(-1.4, 2.6 + 3.3 * len(columns))
    ax.set_ylim(0, len(rows) + 0.6)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def _cell(x: float, y: float, colour: str) -> Any:
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch(
        (x, y - 0.36),
        3.2,
        0.72,
        boxstyle="round,pad=0.0,rounding_size=0.08",
        facecolor=colour,
        edgecolor="#868e96",
    )
