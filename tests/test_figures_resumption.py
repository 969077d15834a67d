"""tlslab.course.figures.resumption: the figures draw the numbers they are given, with the notebook's words."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tlslab.course.figures import resumption  # noqa: E402


def texts(ax) -> list[str]:
    return [t.get_text().strip() for t in ax.texts]


def test_handshake_cost_figure_draws_times_and_bytes():
    fig = resumption.handshake_cost_figure(
        {"full": 0.0015, "resumed": 0.0011}, {"full": 1300, "resumed": 700}
    )
    time_ax, bytes_ax = fig.axes
    assert [round(p.get_width(), 6) for p in time_ax.patches] == [1.5, 1.1]  # milliseconds
    assert texts(time_ax) == ["1.50 ms", "1.10 ms"]
    assert [p.get_width() for p in bytes_ax.patches] == [1300, 700]
    assert texts(bytes_ax) == ["1300 B", "700 B"]
    assert [t.get_text() for t in time_ax.get_yticklabels()] == ["full", "resumed"]
    colours = [p.get_facecolor() for p in time_ax.patches]
    assert colours[0] != colours[1]  # full and resumed look different
    png, size = fig._repr_png_()
    assert png.startswith(b"\x89PNG")
    pixel_width = int.from_bytes(png[16:20], "big")  # the IHDR chunk's width
    assert pixel_width == 2 * size["width"], "drawn at twice the pixels it is shown at (sharp on HiDPI)"


def test_key_share_figure_draws_both_shares_per_group():
    sizes = {"x25519": (32, 32), "X25519MLKEM768": (1216, 1120)}
    fig = resumption.key_share_figure(sizes)
    (ax,) = fig.axes
    widths = [p.get_width() for p in ax.patches]
    assert widths == [32, 1216, 32, 1120]  # the client's bars, then the server's
    assert texts(ax) == ["32 B", "1216 B", "32 B", "1120 B"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x25519", "X25519MLKEM768"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["client's key share", "server's key share"]
