"""tlslab.course.figures.certificates: the chain picture and the failure gallery say the right things."""

from __future__ import annotations

import datetime as dt

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from tlslab.course.figures import certificates as fc  # noqa: E402
from tlslab.lab import pki  # noqa: E402

UTC = dt.timezone.utc
NOW = dt.datetime(2030, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def chain() -> list:
    root = pki.make_ca(
        "Fig Root",
        not_before=dt.datetime(2030, 1, 1, tzinfo=UTC),
        not_after=dt.datetime(2040, 1, 1, tzinfo=UTC),
    )
    inter = pki.issue(
        root,
        common_name="Fig Intermediate",
        is_ca=True,
        not_before=dt.datetime(2030, 1, 1, tzinfo=UTC),
        not_after=dt.datetime(2030, 5, 1, tzinfo=UTC),
    )
    leaf = pki.issue(
        inter,
        common_name="www.fig.example",
        dns_names=["www.fig.example", "*.fig.example"],
        ip_addresses=["127.0.0.1"],
        not_before=dt.datetime(2030, 7, 1, tzinfo=UTC),
        not_after=dt.datetime(2030, 9, 1, tzinfo=UTC),
    )
    return [leaf.cert, inter.cert, root.cert]


def test_chain_figure_texts(chain: list) -> None:
    fig = fc.chain_figure(chain, NOW)
    texts = fc.figure_texts(fig)
    plt.close(fig)
    assert "www.fig.example\nleaf" in texts
    assert "Fig Intermediate\nintermediate" in texts
    assert "Fig Root\nroot (self-signed)" in texts
    assert "SAN: www.fig.example, *.fig.example, 127.0.0.1" in texts
    assert texts.count("signed by") == 2
    assert any(t.startswith(" now 2030-06-01") for t in texts)
    assert " not yet valid" in texts and " expired" in texts and " valid" in texts


def test_chain_figure_flags_a_wrong_signature(chain: list) -> None:
    other = pki.make_ca("Someone Else")
    fig = fc.chain_figure([chain[0], other.cert], NOW)
    texts = fc.figure_texts(fig)
    plt.close(fig)
    assert "NOT signed by" in texts and "signed by" not in texts


def test_validity_state(chain: list) -> None:
    leaf, inter, root = chain
    assert [fc.validity_state(c, NOW) for c in chain] == ["not yet valid", "expired", "valid"]
    assert fc.validity_state(leaf, dt.datetime(2030, 8, 1, tzinfo=UTC)) == "valid"
    assert fc.san_names(root) == []
    assert fc.common_name(inter.subject) == "Fig Intermediate"


def test_gallery_table_colours_right_and_wrong_verdicts() -> None:
    refused = fc.Verdict(False, "certificate for a.example expired on 2030-01-01")
    rows = [
        fc.GalleryRow("good", True, {"short": fc.Verdict(True), "<b>ours</b>": fc.Verdict(True)}),
        fc.GalleryRow("expired", False, {"short": fc.Verdict(True), "<b>ours</b>": refused}),
        fc.GalleryRow(
            "x & y", True, {"short": fc.Verdict(False, "<script>"), "<b>ours</b>": fc.Verdict(True)}
        ),
    ]
    assert [r.wrong() for r in rows] == [[], ["short"], ["short"]]
    page = fc.gallery_table(rows)._repr_html_()
    assert page.count("<tr>") == 4  # the head and three cases
    assert "&lt;b&gt;ours&lt;/b&gt;" in page and "x &amp; y" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    cells = page.split("</table>")[0].split("<td ")[1:]
    wrong = [c for c in cells if fc._WRONG in c]
    assert len(wrong) == 2 and "<b>accepted</b>" in wrong[0] and "<b>refused</b>" in wrong[1]
    assert sum(fc._RIGHT in c for c in cells) == 4
    assert "expired on 2030-01-01" in page and "refuses" in page and "accepts" in page


def test_gallery_table_text() -> None:
    row = fc.GalleryRow("expired", False, {"short": fc.Verdict(True), "tlslab": fc.Verdict(False, "expired")})
    text = repr(fc.gallery_table([row]))
    assert text.splitlines() == [
        "expired (a correct verifier refuses)",
        "  WRONG short   accepted",
        "  ok    tlslab  refused: expired",
    ]


def test_byte_ranges_figure_labels_every_span() -> None:
    spans = [("Certificate", 0, 432, 0), ("tbsCertificate", 4, 285, 1), ("version [0]", 8, 13, 2)]
    fig = fc.byte_ranges_figure(spans, "a certificate")
    texts = fc.figure_texts(fig)
    bars = [(p.get_x(), p.get_width()) for p in fig.axes[0].patches]
    plt.close(fig)
    assert ["Certificate", "   tbsCertificate", "      version [0]"] == [
        t for t in texts if t.strip()[0].isalpha()
    ][:3]
    assert {" 432", " 281", " 5", "a certificate"} <= set(texts)
    assert bars == [(0, 432), (4, 281), (8, 5)]
