"""tlslab.course.figures.performance: each figure draws the numbers it is given, with the words the notebooks use."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from tlslab.course.figures import performance as perf  # noqa: E402
from tlslab.lab.measure import format_seconds  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def bar_widths(ax) -> list[float]:
    return [bar.get_width() for bar in ax.patches]


@pytest.mark.parametrize(
    ("nbytes", "label"),
    [
        (256, "256 B"),
        (1000, "1000 B"),
        (1024, "1 KiB"),
        (16384, "16 KiB"),
        (1536, "1536 B"),
        (8 << 20, "8 MiB"),
    ],
)
def test_size_label(nbytes, label):
    assert perf.size_label(nbytes) == label


def test_timeline_shows_one_round_trip_for_the_handshake():
    fig = perf.handshake_timeline_figure()
    (ax,) = fig.axes
    words = "\n".join(texts(ax))
    for message in (
        "ClientHello + key_share",
        "ServerHello",
        "{CertificateVerify} {Finished}",
        "[GET / HTTP/1.1]",
    ):
        assert message in words
    assert "1 RTT: handshake" in words and "1 RTT: request" in words
    assert "client" in texts(ax) and "server" in texts(ax)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 4  # ClientHello, the server's flight, Finished + request, the answer
    assert "one round trip" in ax.get_title()


COSTS = {
    "X25519 keygen + exchange": 110e-6,
    "ECDSA P-256 verify": 90e-6,
    "chain validation": 310e-6,
    "whole handshake": 1.4e-3,
}


def test_handshake_costs_bars_are_microseconds_with_their_values():
    fig = perf.handshake_costs_figure(COSTS, whole="whole handshake")
    (ax,) = fig.axes
    assert bar_widths(ax) == pytest.approx([110, 90, 310, 1400])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(COSTS)
    assert [t.strip() for t in texts(ax)] == [format_seconds(v) for v in COSTS.values()]
    colours = [to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colours[-1] == perf.WHOLE and set(colours[:-1]) == {perf.PIECE}
    assert "microseconds" in ax.get_xlabel()


def test_record_size_figure_plots_rates_and_overhead_percent():
    sizes, rates = [256, 1024, 16384], [50.0, 180.0, 900.0]
    fig = perf.record_size_figure(sizes, rates, overhead=22)
    ax, extra = fig.axes
    rate_line = ax.get_lines()[0]
    assert list(rate_line.get_xdata()) == sizes and list(rate_line.get_ydata()) == rates
    assert list(extra.get_lines()[0].get_ydata()) == pytest.approx([100 * 22 / s for s in sizes])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["256 B", "1 KiB", "16 KiB"]
    assert texts(ax) == ["50", "180", "900"]
    assert ax.get_legend() is not None and "22 bytes per record" in "".join(
        t.get_text() for t in ax.get_legend().get_texts()
    )


def test_comparison_figure_has_handshake_and_bulk_panels():
    fig = perf.comparison_figure({"tlslab": 1.5e-3, "ssl": 1.2e-3}, {"tlslab": 400.0, "ssl": 530.0})
    left, right = fig.axes
    assert bar_widths(left) == pytest.approx([1.5, 1.2])
    assert [t.strip() for t in texts(left)] == ["1.50 ms", "1.20 ms"]
    assert bar_widths(right) == pytest.approx([400, 530])
    assert [t.strip() for t in texts(right)] == ["400 MiB/s", "530 MiB/s"]
    assert "shorter is better" in left.get_title() and "longer is better" in right.get_title()


def test_reuse_figure_marks_the_cheapest_way():
    per_request = {"new connection each time": 2.0e-3, "one connection reused": 0.25e-3}
    fig = perf.reuse_figure(per_request)
    (ax,) = fig.axes
    assert bar_widths(ax) == pytest.approx([2.0, 0.25])
    assert [t.strip() for t in texts(ax)] == ["2.00 ms", "250 µs"]
    assert [to_hex(bar.get_facecolor()) for bar in ax.patches] == [perf.WHOLE, perf.OTHER]
