"""Figures of the TLS 1.3 handshake: the client state machine (RFC 8446 Appendix A.1), a message
ladder recorded from a real connection (RFC 8446 §2), and the nesting of record, message and extension.

Each function returns a matplotlib ``Figure`` drawn from tlslab's own data, so it cannot drift
from the code: the states and the edges are the client's state table (``tlslab.states.CLIENT``,
which the client itself runs on), and the ladder is whatever ``ConnectionRecorder`` saw on the wire.

``ConnectionRecorder`` wraps a sans-I/O ``ClientConnection``: you still move the bytes
yourself, it notes each record's direction, size and time, the client's state after it, and
what was inside. To look inside encrypted records it does what Wireshark does with
``SSLKEYLOGFILE``: it reads the traffic secrets from the client's key log and decrypts a copy.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tlslab.client import ClientConnection
from tlslab.constants import ContentType, HandshakeType, name_of
from tlslab.course.annotate import Span, walk
from tlslab.errors import AlertDescription, TLSError
from tlslab.keylog import format_line
from tlslab.messages import HandshakeBuffer, decode_handshake
from tlslab.record import Record, RecordProtection, RecordReader
from tlslab.states import CLIENT, Edge
from tlslab.states import ClientState as State

__all__ = [
    "ConnectionRecorder",
    "WireRecord",
    "nesting_figure",
    "sequence_diagram",
    "state_machine_figure",
]

_LAYOUT: dict[State, tuple[float, float]] = {
    State.START: (0, 8),
    State.WAIT_SH: (0, 7),
    State.WAIT_EE: (0, 6),
    State.WAIT_CERT_CR: (0, 5),
    State.WAIT_CERT: (2.2, 4),
    State.WAIT_CV: (0, 3),
    State.WAIT_FINISHED: (0, 2),
    State.CONNECTED: (0, 0.4),
    State.CLOSED: (0, -0.8),
}


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A pyplot-free Figure that shows itself as a PNG in Jupyter, even without ``%matplotlib inline``."""
    import matplotlib.figure

    class Figure(matplotlib.figure.Figure):
        def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
            """Twice the pixels, shown at the 90-dpi size (sharp on high-resolution screens)."""
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=180)
            width, height = self.get_size_inches()
            return buffer.getvalue(), {"width": round(width * 90), "height": round(height * 90)}

    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    return fig, ax


def _box(ax: Any, xy: tuple[float, float], text: str, colour: str) -> None:
    ax.text(
        *xy,
        text,
        ha="center",
        va="center",
        fontsize=10,
        family="monospace",
        zorder=3,
        bbox={"boxstyle": "round,pad=0.35", "facecolor": colour, "edgecolor": "#495057"},
    )


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], rad: float = 0.0) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        zorder=2,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "#495057",
            "shrinkA": 14,
            "shrinkB": 14,
            "connectionstyle": f"arc3,rad={rad}",
        },
    )


def state_machine_figure() -> Any:
    """The client state machine of RFC 8446 Appendix A.1, drawn from its table (``states.CLIENT``).

    Boxes are the states; an arrow is a message the client may receive there, labelled with its
    name and what the client does. Any other message is unexpected_message. Post-handshake
    authentication (only when the client offered it) is left out of the picture.
    """
    (hello,) = [edge for edge in CLIENT.edges if edge.sent]
    fig, ax = _figure(8.5, 9.5)
    layout = dict(_LAYOUT)
    extra = [s for s in State if s not in layout]
    for i, state in enumerate(extra):  # a state added to client.State still shows up
        layout[state] = (4.4, 8 - i)
    for state in State:
        colour = "#b2f2bb" if state is State.CONNECTED else "#ffc9c9" if state is State.CLOSED else "#a5d8ff"
        _box(ax, layout[state], state.value, colour)
    _arrow(ax, layout[hello.state], layout[hello.to])
    ax.text(0.15, 7.5, hello.does, fontsize=9, va="center")
    for edge in CLIENT.receiving():
        if not edge.only_if:
            _draw_edge(ax, layout, edge)
    ax.text(
        0.8,
        -0.8,
        "any fatal alert, close_notify or error:\n send/receive an alert, then CLOSED",
        fontsize=8.5,
        va="center",
        color="#c92a2a",
    )
    ax.set_xlim(-3.6, 4.4)
    ax.set_ylim(-1.3, 8.5)
    ax.set_title("TLS 1.3 client states (RFC 8446 Appendix A.1), from tlslab.states.CLIENT", fontsize=11)
    return fig


def _draw_edge(ax: Any, layout: dict[State, tuple[float, float]], edge: Edge[State]) -> None:
    state, target, name = edge.state, edge.to, edge.label
    (x0, y0), (x1, y1) = layout[state], layout[target]
    label = f"recv {name}" + (f"\n{edge.does}" if edge.does else "")
    if name.endswith("(PSK)"):  # the resumption shortcut: a long arc on the far left
        ax.annotate(
            "",
            xy=(x1 - 0.8, y1),
            xytext=(x0 - 0.8, y0),
            zorder=2,
            arrowprops={"arrowstyle": "-|>", "color": "#495057", "connectionstyle": "arc3,rad=0.35"},
        )
        ax.text(x0 - 2.4, (y0 + y1) / 2, label + "\n(resumption)", fontsize=8.5, ha="left", va="center")
        return
    if state is target:  # a loop: drawn as an arc on the left
        ax.annotate(
            "",
            xy=(x0 - 0.8, y0 - 0.2),
            xytext=(x0 - 0.8, y0 + 0.2),
            zorder=2,
            arrowprops={"arrowstyle": "-|>", "color": "#495057", "connectionstyle": "arc3,rad=1.2"},
        )
        offset = 0.3 if name == "NewSessionTicket" else -0.3 if name == "KeyUpdate" else 0
        ax.text(x0 - 1.2, y0 + offset, label, fontsize=8.5, ha="right", va="center")
        return
    _arrow(ax, (x0, y0), (x1, y1), rad=0.0 if x0 == x1 else -0.15)
    skips = any(x == x0 and min(y0, y1) < y < max(y0, y1) for x, y in layout.values())
    if x0 == x1 and skips:  # WAIT_CERT_CR -> WAIT_CV passes WAIT_CERT's row: label it on the left
        ax.text(x0 - 0.15, (y0 + y1) / 2, label, fontsize=8.5, ha="right", va="center")
    elif x0 == x1:
        ax.text(x0 + 0.15, (y0 + y1) / 2, label, fontsize=8.5, va="center")
    else:
        ax.text((x0 + x1) / 2 + 0.35, (y0 + y1) / 2 + 0.1, label, fontsize=8.5, va="center")


# ----------------------------------------------------------------------------- recording a connection


@dataclass
class WireRecord:
    """One record as it crossed the wire, with what the recorder saw inside it."""

    sender: str  # "client" or "server"
    time: float  # seconds since the recorder started
    size: int  # bytes on the wire, the 5-byte header included
    encrypted: bool
    contents: list[
        str
    ]  # "ClientHello", "ChangeCipherSpec", "application data (73 bytes)", "Alert: close_notify"
    messages: list[bytes] = field(default_factory=list)  # whole handshake messages inside, decrypted
    data: bytes = b""  # application data inside, decrypted
    state: State | None = None  # the client's state after this record

    def describe(self) -> str:
        arrow = "C -> S" if self.sender == "client" else "S -> C"
        what = ", ".join("{" + c + "}" if self.encrypted else c for c in self.contents)
        state = f"  client: {self.state.value}" if self.state is not None else ""
        return f"{arrow}  {self.size:>5} B  {what}{state}"


class _Direction:
    """Decrypts a copy of one direction's records with secrets read from the key log."""

    def __init__(self, recorder: ConnectionRecorder, who: str) -> None:
        self.recorder, self.who = recorder, who
        self.label = f"{who.upper()}_HANDSHAKE_TRAFFIC_SECRET"
        self.protection: RecordProtection | None = None
        self.generation = -1  # -1: handshake keys; N: application traffic secret N
        self.buffer = HandshakeBuffer()

    def open(self, record: Record) -> tuple[int, bytes] | None:
        """(content type, content) of a copy of ``record``; None if the key log lacks the secret."""
        if record.content_type != ContentType.application_data:
            return record.content_type, record.fragment
        secret = self.recorder.secrets.get(self.label)
        suite = self.recorder.client.suite
        if secret is None or suite is None:
            return None
        if self.protection is None or self.protection.secret != secret:
            self.protection = RecordProtection(suite, secret)
        return self.protection.decrypt(record)

    def next_keys(self) -> None:
        self.generation += 1
        self.label = f"{self.who.upper()}_TRAFFIC_SECRET_{self.generation}"


class ConnectionRecorder:
    """Notes every record between a ``ClientConnection`` and its server (sans-I/O: you move the bytes).

        rec = ConnectionRecorder(client)
        sock.sendall(rec.send())              # what client.data_to_send() returned, recorded
        for entry in rec.receive(sock.recv(65536)):   # fed to the client one record at a time
            print(entry.describe())

    The recorder adds a key-log callback to ``client.config`` (keeping any that was there) and
    uses the secrets, as Wireshark would, to decrypt a *copy* of each record.
    """

    def __init__(self, client: ClientConnection, clock: Callable[[], float] = time.perf_counter) -> None:
        self.client = client
        self.clock = clock
        self.started = clock()
        self.records: list[WireRecord] = []
        self.secrets: dict[str, bytes] = {}
        self.keylog_lines: list[str] = []
        previous = client.keylog  # the connection's (its config stays as it is)

        def tee(label: str, client_random: bytes, secret: bytes) -> None:
            self.secrets[label] = secret
            self.keylog_lines.append(format_line(label, client_random, secret))
            if previous is not None:
                previous(label, client_random, secret)

        client.keylog = tee
        self._incoming = RecordReader()
        self._directions = {"client": _Direction(self, "client"), "server": _Direction(self, "server")}

    def send(self) -> bytes:
        """``client.data_to_send()``, with each record in it noted."""
        data = self.client.data_to_send()
        reader = RecordReader()
        reader.feed(data)
        for record in reader:
            self.records.append(self._note("client", record))
        return data

    def receive(self, data: bytes) -> list[WireRecord]:
        """Feed ``data`` to the client one whole record at a time; the notes of the records it completed."""
        self._incoming.feed(data)
        out = []
        while (record := self._incoming.next_record()) is not None:
            entry = self._note("server", record)
            self.records.append(entry)
            out.append(entry)
            try:
                self.client.receive_data(record.encode())
            finally:
                entry.state = self.client.state
        return out

    def _note(self, sender: str, record: Record) -> WireRecord:
        entry = WireRecord(
            sender,
            self.clock() - self.started,
            5 + len(record.fragment),
            record.content_type == ContentType.application_data,
            [],
        )
        if sender == "client":
            entry.state = self.client.state
        direction = self._directions[sender]
        try:
            opened = direction.open(record)
        except TLSError as exc:
            opened, entry.contents = None, [f"encrypted record (not decrypted: {exc})"]
        if opened is None:
            entry.contents = entry.contents or ["encrypted record"]
            return entry
        content_type, content = opened
        if content_type == ContentType.handshake:
            direction.buffer.feed(content)
            for raw in direction.buffer.pop_all():
                entry.messages.append(raw)
                entry.contents.append(type(decode_handshake(raw)).__name__)
                if raw[0] in (HandshakeType.finished, HandshakeType.key_update) and entry.encrypted:
                    direction.next_keys()  # after Finished: application keys; after KeyUpdate: the next ones
        elif content_type == ContentType.change_cipher_spec:
            entry.contents.append("ChangeCipherSpec")
        elif content_type == ContentType.alert and len(content) == 2:
            entry.contents.append(f"Alert: {name_of(AlertDescription, content[1])}")
        else:
            entry.data = content
            entry.contents.append(f"application data ({len(content)} bytes)")
        return entry

    def describe(self) -> str:
        """One line per record: direction, size, contents, the client's state."""
        return "\n".join(entry.describe() for entry in self.records)


# ----------------------------------------------------------------------------- the ladder


def sequence_diagram(records: list[WireRecord], *, show_times: bool = True, title: str | None = None) -> Any:
    """A client/server ladder: one arrow per record, with its contents, size, time and the client's state.

    Encrypted contents are in braces, as in RFC 8446 §2. ``show_times=False`` for replays,
    where the clock means nothing.
    """
    rows = len(records)
    fig, ax = _figure(9, 1.2 + 0.62 * max(rows, 1))
    left, right = 0.0, 6.0
    top = rows + 0.4
    for x, who in ((left, "Client"), (right, "Server")):
        ax.plot([x, x], [-0.2, top], color="#adb5bd", lw=2, zorder=1)
        ax.text(x, top + 0.25, who, ha="center", fontsize=12, weight="bold")
    for i, entry in enumerate(records):
        y = rows - i - 0.5
        start, end = (left, right) if entry.sender == "client" else (right, left)
        colour = "#1971c2" if entry.sender == "client" else "#2f9e44"
        ax.annotate(
            "",
            xy=(end, y - 0.15),
            xytext=(start, y + 0.15),
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.4},
        )
        names = [("{" + c + "}") if entry.encrypted else c for c in entry.contents]
        ax.text(
            (left + right) / 2,
            y + 0.2,
            "  ".join(names),
            ha="center",
            va="bottom",
            fontsize=8.5,
            family="monospace",
            color=colour,
        )
        when = f" · {1000 * entry.time:.1f} ms" if show_times else ""
        ax.text(
            (left + right) / 2,
            y - 0.2,
            f"{entry.size} B{when}",
            ha="center",
            va="top",
            fontsize=8,
            color="#495057",
        )
        if entry.state is not None:
            ax.text(
                left - 0.15,
                y,
                entry.state.value,
                ha="right",
                va="center",
                fontsize=8,
                family="monospace",
                color="#495057",
            )
    ax.set_xlim(-2.2, right + 0.6)
    ax.set_ylim(-0.4, top + 0.7)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


# ----------------------------------------------------------------------------- nesting


def nesting_figure(spans: list[Span], *, max_depth: int = 3, title: str | None = None) -> Any:
    """Record, handshake message, fields, extensions as nested bars (an icicle chart), from ``annotate`` spans.

    Row ``d`` shows the spans at depth ``d``; each bar is as wide as its bytes, so the picture
    is the byte layout. Labels are written where a bar is wide enough; runs of narrower
    neighbours are numbered, and a key under the bars names them.
    """
    from matplotlib.patches import Rectangle

    from tlslab.course.nb import PALETTE

    shown = [(d, s) for d, s in walk(spans) if d <= max_depth]
    total = max((s.end for _, s in shown), default=1)
    depth = max((d for d, _ in shown), default=0) + 1
    fig, ax = _figure(NESTING_WIDTH, 0.9 + 0.62 * depth)
    points_per_byte = 0.95 * 72 * NESTING_WIDTH / total  # the bars take almost the whole width

    def fits(text: str, size: int) -> bool:
        return size * points_per_byte >= 0.58 * NESTING_FONT * len(text) + 4

    narrow: list[tuple[int, Span]] = []  # a run of neighbours too narrow for their own labels
    keys: list[str] = []  # "1: legacy_version, random": what each numbered run holds

    def label_narrow() -> None:
        """Number a run of narrow neighbours and name them under the figure: no bar goes unexplained."""
        if narrow:
            d, first = narrow[0]
            keys.append(f"{len(keys) + 1}: " + _name_run([_short(s.label, d) for _, s in narrow]))
            middle = (first.start + narrow[-1][1].end) / 2
            ax.text(middle, depth - d - 0.55, str(len(keys)), ha="center", va="center", fontsize=NESTING_FONT,
                    fontweight="bold", color="#343a40")  # fmt: skip
            narrow.clear()

    for i, (d, s) in sorted(enumerate(shown), key=lambda item: (item[1][0], item[1][1].start)):  # row by row
        y = depth - d - 1
        ax.add_patch(
            Rectangle(
                (s.start, y), s.size, 0.9, facecolor=PALETTE[i % len(PALETTE)], edgecolor="#495057", lw=0.6
            )
        )
        text = _short(s.label, d)
        if narrow and (narrow[-1][0] != d or narrow[-1][1].end != s.start):
            label_narrow()
        if fits(text, s.size):
            label_narrow()
            ax.text(s.start + s.size / 2, y + 0.45, text, ha="center", va="center", fontsize=NESTING_FONT,
                    clip_on=True)  # fmt: skip
        elif fits("10", s.size):  # room for a number of its own: numbered alone, named in the key
            label_narrow()
            narrow.append((d, s))
            label_narrow()
        elif s.size:
            narrow.append((d, s))
    label_narrow()
    if keys:
        fig.supxlabel(_wrap_key(keys), x=0.01, ha="left", fontsize=NESTING_FONT, color="#343a40")
    ax.set_xlim(0, total)
    ax.set_ylim(0, depth)
    ax.set_axis_on()
    ax.set_yticks([])
    ax.set_xlabel("byte offset", fontsize=NESTING_FONT)
    ax.tick_params(labelsize=NESTING_FONT)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=11)
    return fig


NESTING_WIDTH = 10  # inches: 900 pixels at the 90-dpi display size, a notebook's width without shrinking
NESTING_FONT = 9  # points, for every label of the nesting figure


def _name_run(names: list[str]) -> str:
    """'length, cipher_suite ×3, length': a run of narrow bars, repeats counted instead of listed."""
    out: list[str] = []
    for name in names:
        if out and out[-1].split(" ×")[0] == name:
            count = int(out[-1].partition(" ×")[2] or 1) + 1
            out[-1] = f"{name} ×{count}"
        else:
            out.append(name)
    return ", ".join(out)


def _wrap_key(keys: list[str]) -> str:
    """The key under the nesting figure, whole entries per line, so "9: ..." never breaks after its number."""
    per_line = int(NESTING_WIDTH * 72 * 0.95 / (0.55 * NESTING_FONT))  # characters that fit the width
    lines: list[str] = []
    for entry in keys:
        if lines and len(lines[-1]) + 3 + len(entry) <= per_line:
            lines[-1] += "   " + entry
        else:
            lines.append(entry)
    return "\n".join(lines)


def _short(label: str, depth: int) -> str:
    """A bar's text: the whole label at the top, the field's name (or the extension's) below."""
    if depth == 0:
        return label
    head, _, value = label.partition(": ")
    if head in ("extension", "handshake header") or (head[:1].isupper() and value):
        return value if head == "extension" else head if head[:1].isupper() else "handshake header"
    return head.split(" (")[0]


def figure_texts(fig: Any) -> list[str]:
    """Every text drawn in ``fig`` (titles, labels, annotations): what the tests read."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]
