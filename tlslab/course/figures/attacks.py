"""Figures for notebook 09: where the attacker sits, and which check stopped each attack.

``attack_map`` draws the client, Mallory and the server on one line, then one row per attack:
where on the path Mallory acted, the check that stopped her (RFC section), and what the client
saw, as the notebook observed it. Nothing is run here: the notebook passes in its own outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from tlslab.course.figures.handshake import _box, _figure

CLIENT, MALLORY, SERVER = "#74c0fc", "#ff8787", "#ffa94d"
STOPPED, GOT_THROUGH = "#d3f9d8", "#ffe3e3"


class Attack(NamedTuple):
    """One attack the notebook ran: what Mallory did, the defence, and what was observed."""

    name: str  # "certificate for another name"
    target: str  # what Mallory touched: "Certificate", "ServerHello", "a record", ...
    defence: str  # the check that stops it, with its RFC section
    observed: str  # what the client (or the bank) saw, e.g. "bad_certificate"
    stopped: bool = True  # False: the attack worked (checks turned off, a strawman store)


def attack_map(attacks: Sequence[Attack] = ()) -> Any:
    """The path client - Mallory - server, and below it one row per attack in ``attacks``.

    With no attacks it draws only the path: Mallory relays every record and may change,
    drop, copy or forge it on the way.
    """
    height = 1.9 + 0.42 * len(attacks) if attacks else 1.2  # the path alone: no empty band below it
    fig, ax = _figure(9, height)
    top = height - 0.55
    ax.set_xlim(0, 9)
    ax.set_ylim(0, height)
    for x, label, colour in (
        (1.0, "client", CLIENT),
        (4.5, "Mallory\n(on the path)", MALLORY),
        (8.0, "server", SERVER),
    ):
        _box(ax, (x, top), label, colour)
    for start, end in ((1.55, 3.75), (5.25, 7.45)):
        ax.annotate(
            "", xy=(end, top), xytext=(start, top), arrowprops={"arrowstyle": "<|-|>", "color": "#495057"}
        )
    ax.text(
        4.5,
        top - 0.5,
        "every record passes through her: read, change, drop, copy, forge",
        ha="center",
        fontsize=9,
    )
    if not attacks:
        return fig
    header_y = top - 0.95
    columns = ((0.05, "attack"), (2.75, "Mallory changes"), (4.6, "stopped by"), (7.35, "the client saw"))
    for x, title in columns:
        ax.text(x, header_y, title, fontsize=9, fontweight="bold", va="center")
    for row, attack in enumerate(attacks):
        y = header_y - 0.42 * (row + 1)
        ax.add_patch(_row_patch(y, STOPPED if attack.stopped else GOT_THROUGH))
        for (x, _), text in zip(
            columns, (attack.name, attack.target, attack.defence, attack.observed), strict=True
        ):
            ax.text(x, y, text, fontsize=8.5, va="center")
    return fig


def _row_patch(y: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((0, y - 0.19), 9, 0.38, facecolor=colour, edgecolor="none", zorder=0)
