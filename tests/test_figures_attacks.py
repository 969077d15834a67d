"""tlslab.course.figures.attacks: the map draws the path and one row per attack it is given."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tlslab.course.figures.attacks import Attack, attack_map  # noqa: E402


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_path_alone_shows_client_mallory_and_server() -> None:
    shown = texts(attack_map())
    assert shown[:3] == ["client", "Mallory\n(on the path)", "server"]
    assert "attack" not in shown  # no table without attacks


def test_the_path_alone_leaves_no_empty_band_below_its_caption() -> None:
    fig = attack_map()
    fig.canvas.draw()
    (ax,) = fig.axes
    caption = next(t for t in ax.texts if t.get_text().startswith("every record"))
    bottom = caption.get_window_extent().y0 - ax.get_window_extent().y0  # pixels under the caption
    assert bottom < 0.3 * fig.dpi, bottom


def test_each_attack_is_a_row_coloured_by_whether_it_was_stopped() -> None:
    rows = [
        Attack("downgrade", "ServerHello", "DOWNGRD sentinel (§4.1.3)", "illegal_parameter"),
        Attack("replay", "copies", "none", "2 of 2 copies run", stopped=False),
    ]
    fig = attack_map(rows)
    shown = texts(fig)
    for row in rows:
        assert [row.name, row.target, row.defence, row.observed] == shown[shown.index(row.name) :][:4]
    (ax,) = fig.axes
    colours = [p.get_facecolor() for p in ax.patches]
    assert len(colours) == 2 and colours[0] != colours[1]
