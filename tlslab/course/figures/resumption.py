"""Figures for notebook 08: what resumption saves, and what a post-quantum key share costs.

Each function draws the values it is given (measured or computed by the notebook) and returns
a pyplot-free matplotlib ``Figure`` that shows itself in Jupyter; nothing is measured here, so
tests can call the functions with made-up numbers and check what they draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlslab.course.figures.handshake import _figure
from tlslab.lab.measure import format_seconds

FULL = "#ffa94d"  # the full handshake (certificate, signature)
RESUMED = "#74c0fc"  # resumed with a ticket's PSK
CLIENT, SERVER = "#74c0fc", "#ffa94d"


def _colour(name: str) -> str:
    return RESUMED if "resum" in name.lower() else FULL


def handshake_cost_figure(seconds: Mapping[str, float], wire_bytes: Mapping[str, int]) -> Any:
    """Two panels of bars, one bar per kind of handshake: its median time, and its bytes on the wire.

    ``seconds`` and ``wire_bytes`` map the same names ("full", "resumed", ...) to a duration in
    seconds and to the bytes both sides sent during the handshake.
    """
    names = list(seconds)
    fig, first = _figure(8, 2.4)
    fig.delaxes(first)
    left, right = fig.subplots(1, 2)
    panels = (
        (left, [seconds[n] * 1000 for n in names], [format_seconds(seconds[n]) for n in names], "time (ms)"),
        (right, [wire_bytes[n] for n in names], [f"{wire_bytes[n]} B" for n in names], "bytes on the wire"),
    )
    for ax, values, labels, title in panels:
        ax.barh(names, values, color=[_colour(n) for n in names])
        for y, (value, label) in enumerate(zip(values, labels, strict=True)):
            ax.text(value, y, " " + label, va="center", fontsize=9)
        ax.set_xlim(0, max(values) * 1.45 or 1)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("A handshake, full and resumed", fontsize=11)
    return fig


def key_share_figure(sizes: Mapping[str, tuple[int, int]]) -> Any:
    """For each group, the client's key share and the server's, in bytes (RFC 8446 §4.2.8).

    ``sizes`` maps a group name to (client's key_exchange length, server's key_exchange length).
    """
    names = list(sizes)
    fig, ax = _figure(7.5, 0.6 + 0.75 * len(names))
    ax.set_axis_on()
    height = 0.38
    for offset, who, colour in ((-height / 2, "client", CLIENT), (height / 2, "server", SERVER)):
        values = [sizes[n][0 if who == "client" else 1] for n in names]
        ys = [i + offset for i in range(len(names))]
        ax.barh(ys, values, height=height, color=colour, label=f"{who}'s key share")
        for y, value in zip(ys, values, strict=True):
            ax.text(value, y, f" {value} B", va="center", fontsize=9)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(max(pair) for pair in sizes.values()) * 1.25)
    ax.set_xlabel("bytes of key_exchange in the key_share extension")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Key shares: classical and post-quantum hybrid", fontsize=11)
    return fig


__all__ = ["handshake_cost_figure", "key_share_figure"]
