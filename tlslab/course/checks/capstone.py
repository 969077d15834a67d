"""Notebook 07's capstone: plug the learner's pieces into tlslab's client for one real handshake.

``learner_provider(...)`` builds a ``tlslab.provider.Provider`` with the learner's functions in
place of tlslab's (and a call counter on each); the ``capstone`` task passes one to the client
(``ClientConfig(provider=...)``, a real page fetched) and one to the server (``ServerConfig``, a
request answered in memory: ``serve_in_memory``). Nothing of tlslab is patched. Imported after every
notebook's module, so the capstone is registered last and ``TASKS`` keeps its order.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from tlslab.course.checks.core import (
    TASKS,
    CaseTimeout,
    Report,
    Task,
    _one_line,
    _raised_in,
    _watch,
    register,
    run_case,
    time_limit,
)
from tlslab.course.checks.referee import ExplainingStandIn
from tlslab.provider import DEFAULT_PROVIDER, Provider


class _Record:
    """Counts calls of a learner's function while it stands in for tlslab's."""

    def __init__(self, name: str, func: Callable[..., Any]) -> None:
        self.name, self.func, self.calls = name, func, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.func(*args, **kwargs)


# The pieces a learner may plug in: the Provider's fields (see tlslab/provider.py).
PLUG_POINTS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Provider))


def learner_provider(**pieces: Callable[..., Any]) -> tuple[Provider, dict[str, _Record]]:
    """A Provider running the learner's functions in place of tlslab's, and ``{name: counter}``.

    Pass the provider to a connection (``ClientConfig(provider=...)``, ``ServerConfig(...)``,
    ``fetch_example_com(provider=...)``); each counter's ``calls`` says how often tlslab called
    that function. Names: ``PLUG_POINTS``.
    """
    unknown = set(pieces) - set(PLUG_POINTS)
    if unknown:
        raise KeyError(f"cannot plug in {sorted(unknown)}; choose from {sorted(PLUG_POINTS)}")
    counters = {name: _Record(name, func) for name, func in pieces.items()}
    return Provider(**counters), counters


CAPSTONE_PIECES = ("hkdf_expand_label", "derive_secret", "per_record_nonce", "finished_verify_data")
_PIECE_TASK = {
    "hkdf_expand_label": "hkdf-expand-label",
    "derive_secret": "derive-secret",
    "per_record_nonce": "per-record-nonce",
    "finished_verify_data": "finished-verify-data",
}


def fetch_example_com(
    *, offline: bool | None = None, timeout: float = 10.0, provider: Provider = DEFAULT_PROVIDER
) -> tuple[bytes, str]:
    """GET / from example.com (or the offline stand-in) with tlslab's client: (response, where).

    ``provider``: the cryptographic pieces the client runs on (``learner_provider``).
    """
    from tlslab.connection import connect
    from tlslab.lab import http, reach_example_com

    with reach_example_com(offline=offline) as target:
        sock = connect(
            target.host,
            target.port,
            server_hostname=target.server_hostname,
            cafile=target.cafile,
            timeout=timeout,
            provider=provider,
        )
        with sock:
            sock.sendall(http.request("/", target.server_hostname))
            return sock.recv_all(), target.describe()


def _fetch(server: Any, provider: Provider, timeout: float = 10.0) -> bytes:
    """GET / from ``server`` (an ``ExplainingStandIn``) with tlslab's client on ``provider``."""
    from tlslab.connection import connect

    sock = connect(
        server.host,
        server.port,
        server_hostname="example.com",
        cafile=str(server.pki.cafile),
        timeout=timeout,
        provider=provider,
    )
    with sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
        return sock.recv_all()


def serve_in_memory(provider: Provider = DEFAULT_PROVIDER) -> bytes:
    """tlslab's server, running on ``provider``, answers one request of tlslab's client, in memory.

    The server has a certificate minted on the spot; returns what the client received. The
    other side of ``fetch_example_com``: the same pieces carry the server's key schedule,
    records and Finished.
    """
    from tlslab.client import ClientConfig, ClientConnection
    from tlslab.events import ApplicationData
    from tlslab.lab import pki
    from tlslab.server import ServerConfig, ServerConnection

    ca = pki.make_ca("tlslab capstone CA")
    leaf = pki.issue(ca, common_name="capstone.example", dns_names=["capstone.example"])
    server = ServerConnection(
        ServerConfig(certificate_chain=[leaf.cert], private_key=leaf.key, provider=provider)
    )
    client = ClientConnection(ClientConfig(server_name="capstone.example", trust_roots=[ca.cert]))
    request = b"GET / HTTP/1.1\r\nHost: capstone.example\r\n\r\n"
    to_server, request_sent = client.data_to_send(), False
    for _ in range(3):  # ClientHello; Finished and the request: two round trips
        for event in server.receive_data(to_server):
            if isinstance(event, ApplicationData) and event.data == request:
                server.send_application_data(b"HTTP/1.1 200 OK\r\n\r\nhello from tlslab's server")
        received = client.receive_data(server.data_to_send())
        answer = b"".join(e.data for e in received if isinstance(e, ApplicationData))
        if answer:
            return answer
        if client.handshake_complete and not request_sent:
            client.send_application_data(request)
            request_sent = True
        to_server = client.data_to_send()
    raise RuntimeError("tlslab's server never answered")


def _precheck(pieces: dict[str, Any], graded: bool) -> tuple[str, str]:
    """Each piece against its own task's fixed cases first: a clear message beats a failed handshake."""
    for name in CAPSTONE_PIECES:
        task = TASKS[_PIECE_TASK[name]]
        for case in task.fixed():
            outcome = run_case(task, pieces[name], case, quiet=graded)
            if outcome.status == "stub":
                return "not attempted", f"{name} is still a stub"
            if outcome.used:
                return "failed", f"your {name} uses {outcome.used}: write it yourself"
            if not outcome.ok:
                return (
                    "failed",
                    f"{name} does not pass yet ({case.label}); run check({task.id!r}) to see why",
                )
    return "", ""


def _run_capstone(task: Task, namespace: Any, graded: bool) -> Report:
    namespace = namespace if isinstance(namespace, Mapping) else {}
    pieces = {name: namespace.get(name) for name in CAPSTONE_PIECES}
    missing = [n for n, f in pieces.items() if not callable(f)]
    if missing:
        return Report(task, "missing", diagnosis=f"define {', '.join(missing)} in this notebook first")
    status, why = _precheck(pieces, graded)
    if status:
        return Report(task, status, diagnosis=why)
    from tlslab.course.checks.referee import Referee

    referees = {"client": Referee(), "server": Referee()}
    provider, calls = learner_provider(**{n: referees["client"].wrap(n, f) for n, f in pieces.items()})
    server_provider, server_calls = learner_provider(
        **{n: referees["server"].wrap(n, f) for n, f in pieces.items()}
    )
    from tlslab.lab.standin import offline_requested

    side, refused, server = "client", "", None
    with contextlib.ExitStack() as stack:
        try:
            with time_limit(task.time_limit):
                if graded or offline_requested():  # the stand-in: tlslab's server, which says why it refused
                    server = stack.enter_context(ExplainingStandIn())
                    page, where = _fetch(server, provider), server.describe()
                else:
                    page, where = fetch_example_com(provider=provider)
                side = "server"
                answer = serve_in_memory(server_provider)
        except CaseTimeout as exc:
            return Report(
                task, "timeout", diagnosis=f"the handshake with your pieces in tlslab's {side} {exc}"
            )
        except Exception as exc:
            finding = referees[side].first_wrong()
            named = f"{finding.text()}; " if finding is not None else ""
            if side == "client" and server is not None:
                refused = server.last_error
            why = f"; the server refused: {refused}" if refused else ""
            return Report(
                task,
                "failed",
                diagnosis=f"{named}the handshake with your pieces in tlslab's {side} failed: {_one_line(exc)}{why}",
            )
    unused = [
        f"{n} ({s})"
        for s, counts in (("client", calls), ("server", server_calls))
        for n, c in counts.items()
        if c.calls == 0
    ]
    notes = [f"tlslab's client called your {n} {c.calls} times" for n, c in calls.items()]
    notes += [f"tlslab's server called your {n} {c.calls} times" for n, c in server_calls.items()]
    report = Report(task, "passed", notes=[f"talked to {where}", *notes])
    if b"Example Domain" not in page or b"hello from tlslab's server" not in answer or unused:
        report.status = "failed"
        report.diagnosis = (
            f"not all pieces were used: {unused}"
            if unused
            else "the page did not come back"
            if b"Example Domain" not in page
            else "tlslab's server did not answer"
        )
    else:
        title = (
            page.split(b"<title>")[1].split(b"</title>")[0].decode(errors="replace")
            if b"<title>" in page
            else ""
        )
        report.notes.insert(0, f"fetched the page: <title>{title}</title>, {len(page)} bytes with headers")
    return report


register(
    Task(
        id="capstone",
        notebook="07-the-handshake",
        func_name="capstone",
        title="capstone: your functions complete a real handshake",
        reference=lambda: None,
        fixed=list,
        randomized=lambda rng: [],
        mistakes=[],
        hints=(
            "Each of your four pieces must pass its own check first.",
            "RFC 8446 §7.1 (key schedule), §5.3 (nonces), §4.4.4 (Finished).",
            "Define hkdf_expand_label, derive_secret, per_record_nonce and finished_verify_data in this notebook, then run check('capstone').",
        ),
        points=4,
        time_limit=30.0,
        runner=_run_capstone,
    )
)


# ---------------------------------------------------------------- capstone 2: the learner's own client


def _not_yours() -> tuple[Callable[..., Any], ...]:
    """What the learner's own client may not call: tlslab's client, and tlslab's version of any task of
    04 to 07 (HKDF itself, exercises 03's, may be tlslab's copy, as the notebooks import it)."""
    from tlslab import client, connection

    later = ("04-key-schedule", "05-aead-and-records", "06-certificates", "07-the-handshake")
    own = tuple(
        f
        for t in TASKS.values()
        if t.notebook in later
        for f in t.forbidden or ()
        if (getattr(f, "__module__", "") or "").startswith("tlslab")  # cryptography's parser is fair here
    )
    return (*own, client.ClientConnection.__init__, connection.connect)


def _run_my_client(task: Task, namespace: Any, graded: bool) -> Report:
    from tlslab.course.checks.referee import ExplainingStandIn, Referee, graded_functions

    namespace = namespace if isinstance(namespace, Mapping) else {}
    handshake = namespace.get("handshake")
    if not callable(handshake):
        return Report(task, "missing", diagnosis="define handshake(host, port, server_name, root) first")
    scope = getattr(handshake, "__globals__", {})
    referee = Referee()
    answer, error, used = b"", "", []
    with ExplainingStandIn() as server:
        try:
            with (
                time_limit(task.time_limit),
                referee.watching(scope, graded_functions(scope)),
                _watch(_not_yours()) as used,
            ):
                answer = handshake(server.host, server.port, "example.com", server.root)
        except NotImplementedError as exc:
            return Report(
                task, "not attempted", diagnosis=f"{_raised_in(exc) or 'handshake'} is still a stub"
            )
        except CaseTimeout as exc:
            error = f"the handshake {exc}"
        except Exception as exc:
            error = f"your handshake raised {_one_line(exc)}"
        refused = server.last_error
    if used:
        return Report(task, "uses tlslab", diagnosis=f"your client uses {used[0]}: write that piece yourself")
    finding = referee.first_wrong()
    counts = referee.counts()
    notes = [
        f"your functions were called {sum(counts.values())} times: "
        + ", ".join(f"{n} {c}" for n, c in counts.items())
    ]
    fetched = not error and isinstance(answer, (bytes, bytearray)) and b"Example Domain" in answer
    if fetched and finding is None:
        return Report(
            task,
            "passed",
            notes=["your client fetched the stand-in's page: <title>Example Domain</title>", *notes],
        )
    if fetched and finding is not None:  # a wrong value the server did not mind (a wrong SNI, an extra name)
        return Report(
            task, "failed", diagnosis=f"your client fetched the page, but {finding.text()}", notes=notes
        )
    why = [finding.text()] if finding is not None else []
    if refused:
        why.append(f"the server refused: {refused}")
    why.append(error or "the answer is not the page (no 'Example Domain' in it)")
    return Report(task, "failed", diagnosis="; ".join(why), notes=notes)


register(
    Task(
        id="my-client",
        notebook="07-the-handshake",
        func_name="handshake",
        title="capstone 2: your own client fetches the page",
        reference=lambda: None,
        fixed=list,
        randomized=lambda rng: [],
        mistakes=[],
        hints=(
            "Follow RFC 8446 §2's message flow; each step is one of your functions. The referee names the first wrong value.",
            "RFC 8446 §2 (the full handshake), §7.1 (the key schedule, up to the application traffic secrets).",
            "hello = client_hello(____, public_key, server_name)\n"
            "... send it, read the ServerHello, parse_server_hello ...\n"
            "secret = handshake_secret(____)\n"
            "... decrypt_record, split_handshake, certificate_list, chain_problem, certificate_verify_ok,"
            " server_finished_ok, client_finished_record ...\n"
            "master = hkdf_extract(derive_secret(secret, ____, b''), bytes(32))",
        ),
        fill=("os.urandom(32)", "key.exchange(X25519PublicKey.from_public_bytes(server_key))", "b'derived'"),
        points=6,
        time_limit=30.0,
        runner=_run_my_client,
    )
)
