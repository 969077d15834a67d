"""tlslab.course.figures.verdicts: the outcome grid of notebook 07's hostile servers."""

from __future__ import annotations

import pytest

from tlslab.course.figures.handshake import figure_texts
from tlslab.course.figures.verdicts import VERDICT_COLOURS, verdict, verdict_figure


@pytest.mark.parametrize(
    ("outcome", "word"),
    [
        ("fooled: handshake complete", "fooled"),
        ("crashed: KeyError: 43", "crashed"),
        ("refused: alert illegal_parameter", "refused"),
        ("ok", "ok"),
    ],
)
def test_verdict_is_the_first_word(outcome: str, word: str) -> None:
    assert verdict(outcome) == word


@pytest.mark.parametrize("outcome", ["", "handshake complete", "refuse: typo"])
def test_an_outcome_without_a_verdict_is_named(outcome: str) -> None:
    with pytest.raises(ValueError, match="an outcome starts with one of"):
        verdict(outcome)


def test_each_cell_shows_its_outcome_in_its_colour() -> None:
    rows = [
        ("1. suite", ["fooled: handshake complete", "refused: alert illegal_parameter"]),
        ("2. order", ["crashed: KeyError: 0 and a very long explanation after it", "refused: x"]),
    ]
    fig = verdict_figure(rows, ["ours", "tlslab"], title="t")
    texts = figure_texts(fig)
    for expected in ("ours", "tlslab", "1. suite", "2. order", "fooled: handshake complete", "t"):
        assert expected in texts
    assert "crashed: KeyError: 0 and a very long ex" in texts  # the detail is cut to 30 characters
    colours = [patch.get_facecolor() for patch in fig.axes[0].patches]
    from matplotlib.colors import to_rgba

    assert colours == [to_rgba(VERDICT_COLOURS[w]) for w in ("fooled", "refused", "crashed", "refused")]
