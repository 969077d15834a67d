"""Client certificates (RFC 8446 §4.3.2, §4.4.2, §4.4.3) and post-handshake authentication (§4.6.2).

RFC 8448 §5 is replayed through the client: its private key is not in the RFC, and RSA-PSS is
randomised, so the client is given a key that first checks *our* signed content against the
RFC's own CertificateVerify (with the trace's client certificate) and then returns that
signature; every byte of the client's flight must then be the RFC's. Against the tlslab server
and openssl s_server / s_client / gnutls-cli: the server's view of the client must match.
"""

from __future__ import annotations

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from support.hostile import SERVER_NAME, client_config, conversation, server_config
from support.nss import (
    KS,
    PSKM,
    RECORD_SIZE_LIMIT,
    RENEGOTIATION_INFO,
    SA,
    SG,
    SN,
    SV,
    nss_client,
    nss_hook,
)
from support.peers import openssl_server, require_tool

import tlslab
from tlslab.client import CertificateRequested, HandshakeComplete
from tlslab.course.rfc8448 import trace
from tlslab.errors import AlertDescription, PeerAlert
from tlslab.events import ClientAuthenticated
from tlslab.lab import pki as tp
from tlslab.lab.serve import TLSLabServer
from tlslab.messages import decode_handshake
from tlslab.psk import TicketStore
from tlslab.signatures import verify_signature

# --------------------------------------------------------------------------- RFC 8448 §5


class RFC8448ClientKey(rsa.RSAPrivateKey):
    """RFC 8448 §5's client key, as far as signing goes (its private half is not in the RFC).

    Asked to sign, it checks that the content verifies against the RFC's own CertificateVerify
    signature, and returns that signature: RSA-PSS is randomised, so only this replays the trace.
    """

    def __init__(self, certificate: x509.Certificate, certificate_verify) -> None:
        self.certificate, self.cv, self.signed = certificate, certificate_verify, []

    def sign(self, data, padding, algorithm):
        # Our content must be exactly what NSS signed: the RFC's signature verifies over it.
        verify_signature(self.certificate, self.cv.algorithm, self.cv.signature, data)
        assert data.startswith(b" " * 64 + b"TLS 1.3, client CertificateVerify\x00")
        assert algorithm.name == "sha256"  # rsa_pss_rsae_sha256's hash
        self.signed.append(self.cv.algorithm)
        return self.cv.signature

    def public_key(self):
        return self.certificate.public_key()

    @property
    def key_size(self):
        return self.public_key().key_size

    def decrypt(self, ciphertext, padding):
        raise NotImplementedError

    def private_numbers(self):
        raise NotImplementedError

    def private_bytes(self, encoding, format, encryption_algorithm):
        raise NotImplementedError

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def test_client_auth_trace_byte_for_byte():
    t = trace("client_auth")
    their_cv = decode_handshake(t["client_certificate_verify"])
    their_cert = x509.load_der_x509_certificate(
        decode_handshake(t["client_certificate"]).certificate_list[0].cert_data
    )
    key = RFC8448ClientKey(their_cert, their_cv)
    signed = key.signed

    client = nss_client(
        t,
        extensions_hook=nss_hook(SN, RENEGOTIATION_INFO, SG, KS, SV, SA, PSKM, RECORD_SIZE_LIMIT),
        certificate_chain=[their_cert],
        private_key=key,
    )
    assert client.data_to_send() == t["client_hello_record"]
    client.receive_data(t["server_hello_record"] + t["server_handshake_flight_record"])
    assert client.handshake_complete
    assert signed == [their_cv.algorithm]  # rsa_pss_rsae_sha256: the first that fits and was asked for
    assert client.data_to_send() == t["client_handshake_flight_record"]
    assert client.resumption_master_secret == t["resumption_master_secret"]


# --------------------------------------------------------------------------- against the tlslab server


@pytest.fixture(scope="module")
def client_pki():
    """A client CA (not the server's) and client certificates of several key kinds."""
    ca = tp.make_ca("tlslab Test Client CA")
    leaves = {
        kind: tp.issue(ca, common_name=f"client-{kind}", key_kind=kind, extended_key_usage=("clientAuth",))
        for kind in ("ecdsa-p256", "ed25519", "rsa")
    }
    return ca, leaves


def identity(leaf):
    return {"certificate_chain": [leaf.cert], "private_key": leaf.key}


@pytest.mark.parametrize("kind", ["ecdsa-p256", "ed25519", "rsa"])
def test_mutual_tls(pki, client_pki, kind):
    ca, leaves = client_pki
    conv = conversation(server_config(pki, client_ca=[ca.cert]), client_config(pki, **identity(leaves[kind])))
    conv.run()
    done = next(e for e in conv.server.events if isinstance(e, HandshakeComplete))
    assert done.peer_certificates[0] == leaves[kind].cert
    assert conv.client.handshake_complete


def test_no_client_certificate_is_certificate_required(pki, client_pki):
    ca, _ = client_pki
    conv = conversation(server_config(pki, client_ca=[ca.cert]), client_config(pki))
    with pytest.raises(PeerAlert) as info:
        conv.run()
    assert info.value.alert == AlertDescription.certificate_required  # §4.4.2.4


def test_optional_client_certificate(pki, client_pki):
    ca, _ = client_pki
    conv = conversation(
        server_config(pki, client_ca=[ca.cert], client_certificate_required=False), client_config(pki)
    )
    conv.run()
    assert conv.server.handshake_complete and conv.server.peer_certificates == []


@pytest.mark.parametrize(
    "make_leaf, alert",
    [
        (
            lambda ca: tp.issue(
                tp.make_ca("Stranger CA"), common_name="mallory", extended_key_usage=("clientAuth",)
            ),
            AlertDescription.unknown_ca,
        ),
        (
            lambda ca: tp.issue(ca, common_name="server-only", extended_key_usage=("serverAuth",)),
            AlertDescription.unsupported_certificate,
        ),
    ],
    ids=["unknown CA", "serverAuth only"],
)
def test_bad_client_certificates_are_refused(pki, client_pki, make_leaf, alert):
    ca, _ = client_pki
    conv = conversation(
        server_config(pki, client_ca=[ca.cert]), client_config(pki, **identity(make_leaf(ca)))
    )
    with pytest.raises(PeerAlert) as info:
        conv.run()
    assert info.value.alert == alert


def test_resumption_remembers_the_client(pki, client_pki):
    """§4.3.2: no CertificateRequest in a PSK handshake; the ticket carries who the client was."""
    ca, leaves = client_pki
    store = TicketStore()
    first = conversation(
        server_config(pki, client_ca=[ca.cert], ticket_store=store),
        client_config(pki, **identity(leaves["rsa"])),
    )
    first.run()
    again = conversation(
        server_config(pki, client_ca=[ca.cert], ticket_store=store),
        client_config(pki, session=first.client.tickets[0], **identity(leaves["rsa"])),
    )
    again.run()
    assert again.server.session_resumed and again.server.peer_certificates[0] == leaves["rsa"].cert


def test_post_handshake_authentication(pki, client_pki):
    """§4.6.2: CertificateRequest after the handshake; Certificate, CertificateVerify, Finished back."""
    ca, leaves = client_pki
    conv = conversation(
        server_config(pki, client_ca=[ca.cert], client_certificate_required=False),
        client_config(pki, post_handshake_auth=True, **identity(leaves["ed25519"])),
        after_handshake=lambda server: server.request_client_certificate(),
    )
    conv.run()
    assert conv.server.handshake_complete
    (requested,) = [e for e in conv.client_events if isinstance(e, CertificateRequested)]
    assert requested.sent_certificate and len(requested.context) == 8
    (authenticated,) = [e for e in conv.server.events if isinstance(e, ClientAuthenticated)]
    assert authenticated.peer_certificates[0] == leaves["ed25519"].cert
    # The connection goes on under the same keys.
    conv.client.send_application_data(b"still here")
    conv.server.receive_data(conv.client.data_to_send())
    assert conv.server.events[-1].data == b"still here"


def _post_handshake_pair(pki, client_pki, server_cls=None):
    """A connected client and server (of ``server_cls``), the client ready to answer a request."""
    from support.hostile import Conversation

    from tlslab.client import ClientConnection
    from tlslab.server import ServerConnection

    ca, leaves = client_pki
    server = (server_cls or ServerConnection)(
        server_config(pki, client_ca=[ca.cert], client_certificate_required=False)
    )
    client = ClientConnection(client_config(pki, post_handshake_auth=True, **identity(leaves["ecdsa-p256"])))
    Conversation(server, client).run()
    return server, client


def test_post_handshake_answer_walks_the_tables_client_authentication_edges(pki, client_pki):
    """§4.6.2: Certificate, CertificateVerify, Finished: before each, what may come is where the
    answer stands on the server table's WAIT_CERT -> WAIT_CV -> WAIT_FINISHED edges."""
    from tlslab.server import ServerConnection
    from tlslab.states import SERVER, ServerState

    class Watched(ServerConnection):
        walk: list[list[str]] = []

        def _on_handshake_message(self, raw: bytes) -> None:
            allowed = SERVER.expected(ServerState.CONNECTED, self._asked_for())
            self.walk.append(sorted(t.name for t in allowed))
            super()._on_handshake_message(raw)

    server, client = _post_handshake_pair(pki, client_pki, Watched)
    Watched.walk = []
    server.request_client_certificate()
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    assert Watched.walk == [
        ["certificate", "key_update"],
        ["certificate_verify", "key_update"],
        ["finished", "key_update"],
    ]
    assert server._asked_for() == set()  # done: no part of the answer may come again
    assert any(isinstance(e, ClientAuthenticated) for e in server.events)


def test_post_handshake_answer_out_of_order_is_unexpected(pki, client_pki):
    """A Finished where the walk stands at WAIT_CERT: unexpected_message (§6.2)."""
    from tlslab.errors import UnexpectedMessage
    from tlslab.messages import Finished

    server, client = _post_handshake_pair(pki, client_pki)
    server.request_client_certificate()  # not delivered: the client skips straight to a Finished
    client._send_handshake(Finished(bytes(32)))
    with pytest.raises(UnexpectedMessage, match="got finished in state CONNECTED"):
        server.receive_data(client.data_to_send())


def test_post_handshake_auth_needs_the_clients_offer(pki, client_pki):
    ca, leaves = client_pki
    conv = conversation(
        server_config(pki, client_ca=[ca.cert]), client_config(pki, **identity(leaves["rsa"]))
    )
    conv.run()
    with pytest.raises(tlslab.TLSError, match="post_handshake_auth"):
        conv.server.request_client_certificate()


# --------------------------------------------------------------------------- real peers


@pytest.fixture(scope="module")
def client_files(client_pki, tmp_path_factory):
    ca, leaves = client_pki
    directory = tmp_path_factory.mktemp("client-pki")
    ca_file, _ = ca.write(directory, "client-ca")
    cert, key = leaves["ecdsa-p256"].write(directory, "client")
    return ca_file, cert, key


@pytest.mark.interop
def test_tlslab_client_against_s_server_verify(pki, client_files, tmp_path):
    ca_file, cert, key = client_files
    leaf = pki.leaves["ecdsa-p256"]
    args = ["-Verify", "1", "-verify_return_error", "-CAfile", str(ca_file)]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, extra_args=args) as server:
        with tlslab.connect(
            "127.0.0.1", server.port, server_hostname=SERVER_NAME, cafile=str(pki.cafile), cert=cert, key=key
        ) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            page = tls.recv_all()
    assert b"HTTP/1.0 200 ok" in page
    assert "subject=CN = client-ecdsa-p256" in server.output() or b"client-ecdsa-p256" in page


@pytest.mark.interop
def test_tlslab_client_without_certificate_against_s_server_verify(pki, client_files, tmp_path):
    ca_file, _, _ = client_files
    leaf = pki.leaves["ecdsa-p256"]
    args = ["-Verify", "1", "-verify_return_error", "-CAfile", str(ca_file)]
    with openssl_server(tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, extra_args=args) as server:
        with pytest.raises(PeerAlert) as info:
            with tlslab.connect(
                "127.0.0.1", server.port, server_hostname=SERVER_NAME, cafile=str(pki.cafile)
            ) as tls:
                tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                tls.recv_all()
    assert info.value.alert == AlertDescription.certificate_required


@pytest.mark.interop
def test_post_handshake_auth_with_s_server(pki, client_files, tmp_path):
    """s_server's ``c`` command sends a post-handshake CertificateRequest (§4.6.2)."""
    ca_file, cert, key = client_files
    leaf = pki.leaves["ecdsa-p256"]
    args = ["-verify", "1", "-CAfile", str(ca_file)]
    with openssl_server(
        tmp_path, cert=leaf.cert, key=leaf.key, chain=leaf.chain, interactive=True, extra_args=args
    ) as server:
        with tlslab.connect(
            "127.0.0.1", server.port, server_hostname=SERVER_NAME, cafile=str(pki.cafile), cert=cert, key=key
        ) as tls:
            tls.sendall(b"before\n")
            server.wait_for_output("before")
            server.send_line("c")
            server.wait_for_output("SSL_do_handshake -> 1")
            server.send_line("data-after-auth")
            received = b""
            while b"data-after-auth" not in received:
                received += tls.recv(4096)
            tls.sendall(b"after\n")
            server.wait_for_output("after")
    assert "subject=CN = client-ecdsa-p256" in server.output()
    (requested,) = [e for e in tls.connection.events if isinstance(e, CertificateRequested)]
    assert requested.sent_certificate


def _tlslab_server(pki, ca):
    def make(store):
        return server_config(pki, client_ca=[ca.cert], ticket_store=store, keylog=None)

    return TLSLabServer(make)


@pytest.mark.interop
def test_s_client_certificate_against_the_tlslab_server(pki, client_pki, client_files):
    require_tool("openssl")
    ca, _ = client_pki
    _, cert, key = client_files
    with _tlslab_server(pki, ca) as server:
        result = subprocess.run(
            ["timeout", "20", "openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_3"]
            + ["-CAfile", str(pki.cafile), "-servername", SERVER_NAME, "-verify_return_error"]
            + ["-cert", str(cert), "-key", str(key), "-ign_eof"],
            input=b"GET / HTTP/1.0\r\n\r\n",
            capture_output=True,
            timeout=30,
        )
    out = result.stdout.decode(errors="replace")
    assert "client      CN=client-ecdsa-p256" in out, out + result.stderr.decode(errors="replace")
    assert server.served[0].error is None


@pytest.mark.interop
def test_gnutls_cli_certificate_against_the_tlslab_server(pki, client_pki, client_files):
    gnutls = require_tool("gnutls-cli")
    ca, _ = client_pki
    _, cert, key = client_files
    with _tlslab_server(pki, ca) as server:
        args = [gnutls, "--x509cafile", str(pki.cafile), "-p", str(server.port), "127.0.0.1"]
        args += ["--sni-hostname", SERVER_NAME, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"]
        args += ["--x509certfile", str(cert), "--x509keyfile", str(key)]
        process = subprocess.Popen(
            ["timeout", "20", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        process.stdin.write(b"GET / HTTP/1.0\r\n\r\n")
        process.stdin.flush()
        process.wait(timeout=30)  # stdin stays open: gnutls-cli ends when the server closes
        out = process.stdout.read().decode(errors="replace")
        process.stdin.close()
        process.stdout.close()
    assert "client      CN=client-ecdsa-p256" in out, out
