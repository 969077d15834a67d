"""How fast is tlslab next to Python's ssl (OpenSSL) and tlslite-ng? One run, printed figures.

Against one loopback ``openssl s_server`` (X25519, ECDSA P-256 certificate under a fresh CA):

* full handshake: median wall time of TCP connect + TLS 1.3 handshake (certificate chain and
  name verified) over N connections, for ``tlslab.connect``, ``ssl`` and tlslite-ng's client;
* bulk receive: MiB/s of a 64 MiB ``GET`` served by ``s_server -WWW``, tlslab vs ``ssl``.

Targets (docs): handshake within 1.5x of ``ssl``; bulk receive at least ``ssl``'s. This is a
script, not a test: a shared machine is noisy (see /work/shared/notes/peers.md), so read the
figures, do not assert on them.

    python benchmarks/bench.py [-n 50] [--mib 64]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from peers import openssl_server  # noqa: E402

import tlslab  # noqa: E402
from tlslab.lab import pki  # noqa: E402

HOST, NAME = "127.0.0.1", "localhost"
HANDSHAKE_TARGET = 1.5  # tlslab's median handshake may take at most 1.5x ssl's
BULK_TARGET = 1.0  # tlslab's bulk receive should reach at least ssl's MiB/s


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A root CA and an ECDSA P-256 leaf for localhost; returns (cafile, cert, key)."""
    root = pki.make_ca("tlslab bench CA")
    leaf = pki.issue(root, common_name=NAME, dns_names=(NAME,), ip_addresses=(HOST,))
    cafile, _ = root.write(directory, "root")
    cert, key = leaf.write(directory, "leaf")
    return cafile, cert, key


# --- one handshake, three clients ---------------------------------------------------------------


def tlslab_handshake(port: int, cafile: Path) -> None:
    with tlslab.connect(HOST, port, server_hostname=NAME, cafile=str(cafile), groups=["x25519"]):
        pass


def ssl_handshake_factory(cafile: Path) -> Callable[[int, Path], None]:
    context = ssl.create_default_context(cafile=str(cafile))
    context.minimum_version = ssl.TLSVersion.TLSv1_3

    def handshake(port: int, cafile: Path) -> None:
        raw = socket.create_connection((HOST, port), timeout=10)
        with context.wrap_socket(raw, server_hostname=NAME):
            pass

    return handshake


def tlslite_handshake_factory() -> Callable[[int, Path], None] | None:
    try:
        from tlslite.api import HandshakeSettings, TLSConnection
    except ImportError:
        return None
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 4)
    settings.keyShares = ["x25519"]

    def handshake(port: int, cafile: Path) -> None:  # tlslite-ng does not verify chains
        raw = socket.create_connection((HOST, port), timeout=10)
        conn = TLSConnection(raw)
        try:
            conn.handshakeClientCert(settings=settings, serverName=NAME)
        finally:
            conn.close()

    return handshake


def time_handshakes(handshake: Callable[[int, Path], None], port: int, cafile: Path, n: int) -> list[float]:
    """Wall seconds of ``n`` handshakes (after two warm-up ones)."""
    for _ in range(2):
        handshake(port, cafile)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        handshake(port, cafile)
        times.append(time.perf_counter() - start)
    return times


# --- bulk receive -------------------------------------------------------------------------------


def receive_all(sock: object, path: str) -> int:
    sock.sendall(f"GET /{path} HTTP/1.0\r\n\r\n".encode())  # type: ignore[attr-defined]
    total = 0
    while True:
        chunk = sock.recv(1 << 17)  # type: ignore[attr-defined]
        if not chunk:
            return total
        total += len(chunk)


def tlslab_bulk(port: int, cafile: Path, path: str) -> int:
    with tlslab.connect(HOST, port, server_hostname=NAME, cafile=str(cafile), timeout=60) as sock:
        return receive_all(sock, path)


def ssl_bulk(port: int, cafile: Path, path: str) -> int:
    context = ssl.create_default_context(cafile=str(cafile))
    raw = socket.create_connection((HOST, port), timeout=60)
    with context.wrap_socket(raw, server_hostname=NAME) as sock:
        return receive_all(sock, path)


def time_bulk(fetch: Callable[[int, Path, str], int], port: int, cafile: Path, size: int, runs: int) -> float:
    """Best MiB/s of ``runs`` downloads of the ``size``-byte file (best: the least disturbed run)."""
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        got = fetch(port, cafile, "big.bin")
        elapsed = time.perf_counter() - start
        if got < size:
            raise RuntimeError(f"{fetch.__name__} received {got} bytes, expected more than {size}")
        rates.append(size / elapsed / (1 << 20))
    return max(rates)


# --- report -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def run(n: int, mib: int, runs: int) -> int:
    if shutil.which("openssl") is None:
        print("openssl not installed: nothing to measure against", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="tlslab-bench-") as tmp:
        directory = Path(tmp)
        cafile, cert, key = make_certificates(directory)
        www = directory / "www"
        www.mkdir()
        (www / "big.bin").write_bytes(bytes(range(256)) * (mib << 12))
        size = mib << 20
        common = {"cert": cert, "key": key, "groups": "X25519", "keylog": None}

        clients: dict[str, Callable[[int, Path], None] | None] = {
            "tlslab": tlslab_handshake,
            "ssl": ssl_handshake_factory(cafile),
            "tlslite-ng": tlslite_handshake_factory(),
        }
        medians: dict[str, float] = {}
        with openssl_server(directory, **common) as server:
            for name, handshake in clients.items():
                if handshake is None:
                    print(f"{name}: not installed, skipped")
                    continue
                medians[name] = statistics.median(time_handshakes(handshake, server.port, cafile, n))

        rates: dict[str, float] = {}
        with openssl_server(directory, **common, www=False, extra_args=("-WWW",), cwd=www) as server:
            rates["ssl"] = time_bulk(ssl_bulk, server.port, cafile, size, runs)
            rates["tlslab"] = time_bulk(tlslab_bulk, server.port, cafile, size, runs)

    print(f"\nfull handshake, X25519 + ECDSA P-256, loopback s_server, median of {n}")
    for name, median in medians.items():
        print(f"  {name:<11} {median * 1000:8.2f} ms   {median / medians['ssl']:6.2f}x ssl")
    ratio = medians["tlslab"] / medians["ssl"]
    print(
        f"  target: tlslab <= {HANDSHAKE_TARGET}x ssl -> {ratio:.2f}x, {verdict(ratio <= HANDSHAKE_TARGET)}"
    )

    print(f"\nbulk receive, {mib} MiB GET from s_server -WWW, best of {runs}")
    for name, rate in rates.items():
        print(f"  {name:<11} {rate:8.1f} MiB/s {rate / rates['ssl']:6.2f}x ssl")
    ratio = rates["tlslab"] / rates["ssl"]
    print(f"  target: tlslab >= {BULK_TARGET}x ssl -> {ratio:.2f}x, {verdict(ratio >= BULK_TARGET)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50, help="handshakes per client (default 50)")
    parser.add_argument("--mib", type=int, default=64, help="size of the bulk download in MiB (default 64)")
    parser.add_argument("--runs", type=int, default=3, help="bulk downloads per client (default 3)")
    args = parser.parse_args(argv)
    return run(args.n, args.mib, args.runs)


if __name__ == "__main__":
    sys.exit(main())
