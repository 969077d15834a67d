"""Display helpers for the course notebooks: source listings and annotated bytes.

Everything here is a plain function that tests can call; the one widget,
``hex_explorer``, is a thin ipywidgets shell (7.7 API) over ``describe_field``.
IPython and ipywidgets are imported inside the functions that need them, so
``import tlslab`` works without them.

A *field* is a span of bytes with a label, ``(start, end, label)`` with ``end``
exclusive like a slice, or ``(start, end, label, children)`` where ``children``
is a list of fields inside that span::

    >>> print(describe_field(b"\\x00\\x20", [(0, 2, "length")], 0))
    length: bytes 0..1 (2 bytes) = 00 20 (int 32)
"""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

# Light colours that keep black text readable, given field by field (the first 12 fields that
# colour bytes get a colour each; views that show more use ``max_depth`` to stay within it).
PALETTE = (
    "#ffd8a8", "#b2f2bb", "#a5d8ff", "#fcc2d7", "#ffec99", "#d0bfff",
    "#99e9f2", "#ffc078", "#ffc9c9", "#c0eb75", "#eebefa", "#74c0fc",
)  # fmt: skip
UNMARKED = "#ffffff"
FOLD_AT = 32  # a run of at least this many equal bytes is shown as one line ("226 x 00")
_SECTION = r"§\d+(?:\.\d+)*(?:\s*[-–]\s*§?\d+(?:\.\d+)*)?"  # §7.1, §4.2.11, §7.1-§7.5
_SECTIONS = re.compile(rf"RFC \d+ {_SECTION}(?:, {_SECTION})*")
_RFC = re.compile(r"RFC \d+")


class Span(NamedTuple):
    """One field after flattening: its position in the tree and its bytes."""

    start: int
    end: int
    label: str
    depth: int

    @property
    def where(self) -> str:
        """``"3..15"`` (inclusive, as hex dumps count), or ``"3 (empty)"`` for a zero-length field."""
        return f"{self.start}..{self.end - 1}" if self.end > self.start else f"{self.start} (empty)"


def flatten_fields(fields: list[Any], depth: int = 0) -> list[Span]:
    """Depth-first list of every field and sub-field, parents before their children."""
    spans: list[Span] = []
    for item in fields:
        start, end, label, *rest = item
        if not 0 <= start <= end:
            raise ValueError(f"field {label!r} has a bad span {start}..{end}")
        spans.append(Span(start, end, str(label), depth))
        if rest:
            spans.extend(flatten_fields(rest[0], depth + 1))
    return spans


# ---------------------------------------------------------------- source listings


def rfc_citation(obj: Any) -> str:
    """The RFC section the object implements, as its docstrings cite it.

    The first "RFC NNNN §x.y" (with any ", §z" that follow) in the object's
    docstring, else in its module's docstring; failing both, the first bare "RFC NNNN".
    """
    module = inspect.getmodule(obj)
    docs = [inspect.getdoc(obj) or "", (module.__doc__ if module else None) or ""]
    for pattern in (_SECTIONS, _RFC):
        for doc in docs:
            found = pattern.search(doc)
            if found:
                return found.group(0).rstrip(".")
    return ""


def source_markdown(obj: Any) -> str:
    """The Markdown that ``show_source`` displays: a heading line, then the code."""
    module = obj.__module__
    where = f"`{module}.{obj.__qualname__}`  ·  `{module.replace('.', '/')}.py`"
    citation = rfc_citation(obj)
    heading = f"{where}  ·  {citation}" if citation else where
    return f"{heading}\n\n```python\n{inspect.getsource(obj).rstrip()}\n```"


def show_source(obj: Any) -> Any:
    """Show the source of a tlslab function or class, highlighted, with its module and RFC section.

    Returns an ``IPython.display.Markdown`` object; as the last line of a cell it
    renders in Jupyter, on Colab and on GitHub alike.
    """
    from IPython.core.display import Markdown

    return Markdown(source_markdown(obj))


# ---------------------------------------------------------------- hex dumps


def hexdump(data: bytes, width: int = 16, start: int = 0) -> str:
    """Classic hex dump: offset, hex bytes, and the printable ASCII, ``width`` bytes a line.

    ``start`` is the offset the first byte is shown at (a slice of a larger message).
    """
    data = bytes(data)
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hex_part = " ".join(f"{b:02x}" for b in chunk).ljust(3 * width - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start + offset:04x}  {hex_part}  |{text}|")
    return "\n".join(lines)


def equal_runs(data: bytes, fold: int = FOLD_AT) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of at least ``fold`` equal bytes (padding, zero fill)."""
    runs, start = [], 0
    for position in range(1, len(data) + 1):
        if position == len(data) or data[position] != data[start]:
            if position - start >= fold:
                runs.append((start, position))
            start = position
    return runs


def _folded_lines(data: bytes, width: int, fold: int, window: tuple[int, int] | None = None) -> list[Any]:
    """Line offsets to draw, with each run of whole lines inside an equal-byte run as one ``(start, end)``."""
    low, high = window or (0, len(data))
    runs = equal_runs(data, fold) if fold else []
    lines: list[Any] = []
    for offset in range(low - low % width, high, width):
        inside = next((r for r in runs if r[0] <= offset and offset + width <= r[1]), None)
        if inside is None:
            lines.append(offset)
        elif lines and isinstance(lines[-1], tuple) and lines[-1][1] == offset:
            lines[-1] = (lines[-1][0], offset + width)
        else:
            lines.append((offset, offset + width))
    return lines


def _fold_text(data: bytes, start: int, end: int) -> str:
    return f"... {end - start} x {data[start]:02x} (bytes {start}..{end - 1}) ..."


def _colours(spans: list[Span], size: int) -> list[int | None]:
    """For each byte, the index of the deepest (last listed) span covering it, or None."""
    owner: list[int | None] = [None] * size
    for index, span in enumerate(spans):
        for position in range(span.start, min(span.end, size)):
            current = owner[position]
            if current is None or spans[current].depth <= span.depth:
                owner[position] = index
    return owner


def short_hex(data: bytes, nbytes: int = 8, *, sep: str = "", more: str = "…") -> str:
    """The first ``nbytes`` bytes of ``data`` in hex (``sep`` between bytes), then ``more`` if there are more.

    The one way the course shortens bytes for display: ``short_hex(secret)`` -> ``'b3eddb126e067f35…'``.
    """
    text = data[:nbytes].hex(sep) if sep else data[:nbytes].hex()
    return text + (more if len(data) > nbytes else "")


def _span_hex(chunk: bytes) -> str:
    return short_hex(chunk, 16, sep=" ", more=f" ... ({len(chunk)} bytes)")


@dataclass
class AnnotatedHex:
    """Bytes with labelled spans; renders as coloured HTML (inline styles, no JS) or as text.

    Each span that colours at least one byte gets its own colour, named in the legend; a span
    whose bytes are all covered by its children has no colour of its own, and the legend shows it
    as a heading. Runs of ``fold`` or more equal bytes (padding) are drawn as one line.
    ``window`` (start, end) draws only the lines that hold those bytes.
    """

    data: bytes
    spans: list[Span]
    width: int = 16
    fold: int = FOLD_AT
    window: tuple[int, int] | None = None

    def _shown(self, span: Span) -> bool:
        """Whether the legend lists ``span``: all spans, or those overlapping the window."""
        return self.window is None or (span.start < self.window[1] and self.window[0] < span.end)

    def _palette(self, owner: list[int | None]) -> dict[int, str]:
        owners = sorted({index for index in owner if index is not None})
        return {index: PALETTE[n % len(PALETTE)] for n, index in enumerate(owners)}

    def _byte_html(self, owner: list[int | None], colours: dict[int, str]) -> str:
        rows = []
        for line in _folded_lines(self.data, self.width, self.fold, self.window):
            if isinstance(line, tuple):
                index = owner[line[0]]
                colour = colours.get(index, UNMARKED) if index is not None else UNMARKED
                text = html.escape(_fold_text(self.data, *line))
                rows.append(f'<span style="background:{colour};color:#495057;padding:1px 2px">{text}</span>')
                continue
            cells = []
            for position in range(line, min(line + self.width, len(self.data))):
                index = owner[position]
                title = "" if index is None else f' title="{html.escape(self.spans[index].label)}"'
                colour = UNMARKED if index is None else colours[index]
                cells.append(
                    f'<span style="background:{colour};color:#000;padding:1px 2px"{title}>'
                    f"{self.data[position]:02x}</span>"
                )
            rows.append(f'<span style="color:#868e96">{line:04x}</span>&nbsp; ' + " ".join(cells))
        return "<br>".join(rows)

    def _legend_html(self, colours: dict[int, str]) -> str:
        rows = []
        for index, span in enumerate(self.spans):
            if not self._shown(span):
                continue
            indent = "&nbsp;" * 4 * span.depth
            swatch = f"background:{colours[index]};" if index in colours else ""
            rows.append(
                f'<tr><td style="{swatch}width:1.5em"></td>'
                f'<td style="text-align:right;padding:0 6px">{span.where}</td>'
                f'<td style="text-align:left">{indent}{html.escape(span.label)}</td></tr>'
            )
        return (
            '<table style="border-collapse:collapse;font-size:90%;margin-top:6px">'
            + "".join(rows)
            + "</table>"
        )

    def _repr_html_(self) -> str:
        owner = _colours(self.spans, len(self.data))
        colours = self._palette(owner)
        dump = f'<div style="font-family:monospace;line-height:1.7">{self._byte_html(owner, colours)}</div>'
        return f"<div>{dump}{self._legend_html(colours)}</div>"

    def __repr__(self) -> str:
        dump = []
        for line in _folded_lines(self.data, self.width, self.fold, self.window):
            if isinstance(line, tuple):
                dump.append(_fold_text(self.data, *line))
            else:
                dump.append(hexdump(self.data[line : line + self.width], self.width, start=line))
        legend = [
            f"{'  ' * span.depth}[{span.where}] {span.label}: {_span_hex(self.data[span.start : span.end])}"
            for span in self.spans
            if self._shown(span)
        ]
        return "\n".join(dump) + "\n" + "\n".join(legend)


def annotated_hex(
    data: bytes, fields: list[Any], width: int = 16, *, max_depth: int | None = None, fold: int = FOLD_AT
) -> AnnotatedHex:
    """Colour the labelled ``fields`` of ``data``, with a legend (like "The Illustrated TLS 1.3").

    ``fields`` holds ``(start, end, label)`` tuples, ``end`` exclusive, or
    ``(start, end, label, children)`` for nested spans; ``max_depth`` leaves out deeper ones
    (0: the top fields only). Runs of ``fold`` or more equal bytes show as one line (0: never).
    Displays as HTML in a notebook (also on GitHub), and as a hex dump with a legend in plain text.
    """
    data = bytes(data)
    spans = [s for s in flatten_fields(fields) if max_depth is None or s.depth <= max_depth]
    for span in spans:
        if span.end > len(data):
            raise ValueError(f"field {span.label!r} ends at {span.end}, past the {len(data)} bytes")
    return AnnotatedHex(data, spans, width, fold)


# ---------------------------------------------------------------- one field at a time


def describe_field(data: bytes, fields: list[Any], index: int) -> str:
    """One line about field number ``index`` (in ``flatten_fields`` order): where, what, value.

    Short fields (up to 4 bytes) also show their big-endian integer value, and
    printable fields of 3 bytes or more their ASCII text: that is how TLS structs read.
    """
    span = flatten_fields(fields)[index]
    chunk = bytes(data)[span.start : span.end]
    size = f"{len(chunk)} byte" + ("" if len(chunk) == 1 else "s")
    text = f"{span.label}: bytes {span.where} ({size}) = {short_hex(chunk, 32, sep=' ', more=f' ... ({len(chunk)} bytes)') or '(empty)'}"
    if 0 < len(chunk) <= 4:
        text += f" (int {int.from_bytes(chunk, 'big')})"
    if len(chunk) >= 3 and all(32 <= b < 127 for b in chunk):
        text += f" (ASCII {chunk.decode('ascii')!r})"
    return text


def hex_explorer(data: bytes, fields: list[Any], start: int | None = None) -> Any:
    """A dropdown of the fields; choosing one shows ``describe_field`` and the lines that hold its bytes.

    It opens on field number ``start`` (default: the first field with no sub-fields, a small one).
    A thin ipywidgets shell (7.7 API: ``Dropdown``, ``HTML``, ``VBox``); the
    logic is ``describe_field`` and ``annotated_hex``. Without a kernel (on
    GitHub) a widget does not render, so show ``annotated_hex`` next to it.
    """
    import ipywidgets as widgets

    data = bytes(data)
    spans = flatten_fields(fields)
    if start is None:
        start = next((i for i, s in enumerate(spans[:-1]) if spans[i + 1].depth <= s.depth), len(spans) - 1)
    options = [(f"{'· ' * s.depth}{s.label}", i) for i, s in enumerate(spans)]
    choose = widgets.Dropdown(options=options, value=start, description="field")
    view = widgets.HTML()

    def render(index: int) -> None:
        span = spans[index]
        chosen = AnnotatedHex(
            data, [Span(span.start, span.end, span.label, 0)], window=(span.start, span.end)
        )
        line = html.escape(describe_field(data, fields, index))
        view.value = f"<p><code>{line}</code></p>{chosen._repr_html_()}"

    choose.observe(lambda change: render(change["new"]), names="value")
    render(start)
    return _explorer_box(widgets, [choose, view], len(spans))


def _explorer_box(widgets: Any, children: list[Any], count: int) -> Any:
    """A VBox whose text form (what GitHub and nbval see) is one short line, not the HTML."""

    class HexExplorer(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no types: VBox is Any
        def __repr__(self) -> str:
            return f"hex_explorer: a dropdown over {count} fields (run the notebook to use it)"

    return HexExplorer(children)
