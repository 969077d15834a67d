"""Notebook 07, the client's steps: ``parse_server_hello``, ``handshake_traffic_keys``,
``certificate_verify_ok``.

Registered before ``t07_handshake`` (Finished, the HRR transcript, the client Finished record), in
the order a client meets them. The capstone that puts them together is in ``capstone``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from tlslab import keyschedule, signatures
from tlslab.constants import HELLO_RETRY_REQUEST_RANDOM
from tlslab.course.checks.common import _HRR, _T, SHA384, _hlen, _rand_bytes, _v
from tlslab.course.checks.core import Case, Mistake, Task, register
from tlslab.course.checks.t04_key_schedule import _suite_for
from tlslab.course.checks.t05_records import certificate_list_ref
from tlslab.errors import TLSError
from tlslab.extensions import Extension
from tlslab.messages import CertificateVerify, HelloRetryRequest, ServerHello, decode_handshake

# ---------------------------------------------------------------- ServerHello (§4.1.3)


def parse_server_hello_ref(message: bytes) -> tuple[int, int, bytes, int, bool]:
    """(cipher_suite, key share group, key_exchange, selected_version, is HRR) of a ServerHello message.

    A HelloRetryRequest's key_share holds only the selected group: its key_exchange is b"".
    Extensions that are absent give 0 (group, version) and b"" (key).
    """
    hello = decode_handshake(message)
    if not isinstance(hello, ServerHello):
        raise ValueError("not a ServerHello")
    group, key, version = 0, b"", 0
    for ext in hello.extensions:
        if ext.type == 43:
            version = int.from_bytes(ext.data, "big")
        elif ext.type == 51:
            group, key = int.from_bytes(ext.data[:2], "big"), ext.data[4:]
    return hello.cipher_suite, group, key, version, isinstance(hello, HelloRetryRequest)


def _sh_variant(kind: str) -> Callable[[bytes], tuple[int, int, bytes, int, bool]]:
    def variant(message: bytes) -> tuple[int, int, bytes, int, bool]:
        suite, group, key, version, hrr = parse_server_hello_ref(message)
        body = message[4:]
        if kind == "fixed-session-id":
            suite = int.from_bytes(body[35 + 32 : 37 + 32], "big")
        elif kind == "legacy-version":
            version = int.from_bytes(body[:2], "big")
        elif kind == "msg-type":
            hrr = message[0] == 6
        elif kind == "key-with-length":
            key = message[message.find(key) - 2 :][: len(key) + 2] if key else key
        return suite, group, key, version, hrr

    return variant


def _server_hello(rng: random.Random, hrr: bool) -> bytes:
    group = rng.choice((29, 23, 24))
    key = _rand_bytes(rng, {29: 32, 23: 65, 24: 97}[group])
    exts = [Extension(43, b"\x03\x04")]
    if hrr:
        exts.append(Extension(51, group.to_bytes(2, "big")))
        if rng.random() < 0.5:
            exts.append(Extension(44, _rand_bytes(rng, 2)))  # a cookie
    else:
        exts.append(Extension(51, group.to_bytes(2, "big") + len(key).to_bytes(2, "big") + key))
        if rng.random() < 0.3:
            exts.append(Extension(41, b"\x00\x00"))  # pre_shared_key: the selected identity
    rng.shuffle(exts)
    cls = HelloRetryRequest if hrr else ServerHello
    random_ = HELLO_RETRY_REQUEST_RANDOM if hrr else _rand_bytes(rng, 32)
    return cls(
        random_, _rand_bytes(rng, rng.choice((0, 32, 8))), rng.choice((0x1301, 0x1302, 0x1303)), exts
    ).encode()


register(
    Task(
        id="parse-server-hello",
        forbidden=(ServerHello.decode_body,),
        notebook="07-the-handshake",
        func_name="parse_server_hello",
        title="read the ServerHello (RFC 8446 §4.1.3, §4.2.1, §4.2.8)",
        reference=parse_server_hello_ref,
        fixed=lambda: [
            Case((_v("server_hello"),), "RFC 8448 §3: the ServerHello"),
            Case((_HRR["hello_retry_request"],), "RFC 8448 §5: the HelloRetryRequest"),
            Case((_HRR["server_hello"],), "RFC 8448 §5: the ServerHello after it"),
            Case((_server_hello(random.Random("sid"), False),), "a ServerHello echoing a session id"),
        ],
        randomized=lambda rng: [
            Case((_server_hello(rng, rng.random() < 0.35),), f"random {i + 1}", False) for i in range(6)
        ],
        names=("cipher_suite", "group", "key_exchange", "selected_version", "is_hrr"),
        mistakes=[
            Mistake(
                _sh_variant("fixed-session-id"),
                "legacy_session_id_echo is a vector (1-byte length, 0 to 32 bytes): read its length, do not assume 32",
            ),
            Mistake(
                _sh_variant("legacy-version"),
                "legacy_version is always 0x0303; the real version is in the supported_versions extension (43)",
            ),
            Mistake(
                _sh_variant("msg-type"),
                "a HelloRetryRequest has msg_type 2 like a ServerHello: recognise it by its random"
                " (SHA-256 of 'HelloRetryRequest')",
            ),
            Mistake(
                _sh_variant("key-with-length"),
                "key_exchange is a vector: skip its 2-byte length (after the 2-byte group)",
            ),
        ],
        hints=(
            "Walk the fields in order (version, random, session id, suite, compression), then the extensions.",
            "RFC 8446 §4.1.3 (ServerHello; the HelloRetryRequest random), §4.2.1 (supported_versions = 43),"
            " §4.2.8 (key_share = 51: KeyShareEntry in a ServerHello, only the group in a HelloRetryRequest).",
            "body = message[4:]\n"
            "random, pos = body[2:34], 34\n"
            "pos += 1 + body[pos]                                 # legacy_session_id_echo\n"
            "suite = int.from_bytes(body[pos : pos + 2], 'big')\n"
            "pos += 3                                             # and legacy_compression_method\n"
            "end = pos + 2 + int.from_bytes(body[pos : pos + 2], 'big')\n"
            "pos += 2\n"
            "group, key, version = 0, b'', 0\n"
            "while pos < end:\n"
            "    ext_type = int.from_bytes(body[pos : pos + 2], 'big')\n"
            "    n = int.from_bytes(body[pos + 2 : pos + 4], 'big')\n"
            "    data = body[pos + 4 : pos + 4 + n]\n"
            "    pos += 4 + n\n"
            "    if ext_type == ____:\n"
            "        version = int.from_bytes(data, 'big')\n"
            "    elif ext_type == ____:\n"
            "        group, key = int.from_bytes(data[:2], 'big'), data[4:]\n"
            "return suite, group, key, version, random == ____",
        ),
        fill=("43", "51", "HELLO_RETRY_REQUEST_RANDOM"),
    )
)


# ---------------------------------------------------------------- handshake traffic keys (§7.1, §7.3)


def handshake_traffic_keys_ref(
    shared_secret: bytes, hello_messages: bytes, key_length: int, hash_name: str = "sha256"
) -> tuple[bytes, bytes, bytes, bytes]:
    """(client key, client iv, server key, server iv) from the (EC)DHE secret and ClientHello..ServerHello."""
    schedule = keyschedule.KeySchedule(hash_name)
    schedule.set_handshake_secret(shared_secret)
    suite = _suite_for(key_length, hash_name)
    c = keyschedule.traffic_keys(schedule.client_handshake_traffic_secret(hello_messages), suite)
    s = keyschedule.traffic_keys(schedule.server_handshake_traffic_secret(hello_messages), suite)
    return (*c, *s)


def _htk_variant(kind: str) -> Callable[..., tuple[bytes, bytes, bytes, bytes]]:
    def variant(
        shared_secret: bytes, hello_messages: bytes, key_length: int, hash_name: str = "sha256"
    ) -> tuple[bytes, bytes, bytes, bytes]:
        if kind == "client-hello-only":
            hello_messages = hello_messages[: 4 + int.from_bytes(hello_messages[1:4], "big")]
        if kind == "no-derived":
            n = _hlen(hash_name)
            early = keyschedule.hkdf_extract(bytes(n), bytes(n), hash_name)
            hs = keyschedule.hkdf_extract(early, shared_secret, hash_name)
            suite = _suite_for(key_length, hash_name)
            c = keyschedule.traffic_keys(
                keyschedule.derive_secret(hs, b"c hs traffic", hello_messages, hash_name), suite
            )
            s = keyschedule.traffic_keys(
                keyschedule.derive_secret(hs, b"s hs traffic", hello_messages, hash_name), suite
            )
            return (*c, *s)
        out = handshake_traffic_keys_ref(shared_secret, hello_messages, key_length, hash_name)
        if kind == "swapped":
            return out[2], out[3], out[0], out[1]
        return out

    return variant


def _htk_random(rng: random.Random) -> list[Case]:
    out = []
    for i, (key_length, h) in enumerate(((16, "sha256"), (32, "sha384"), (32, "sha256"), (16, "sha256"))):
        ch = b"\x01" + (n := rng.randint(40, 200)).to_bytes(3, "big") + _rand_bytes(rng, n)
        sh = b"\x02" + (m := rng.randint(40, 120)).to_bytes(3, "big") + _rand_bytes(rng, m)
        out.append(Case((_rand_bytes(rng, 32), ch + sh, key_length, h), f"random {i + 1} ({h})", False))
    return out


register(
    Task(
        id="handshake-traffic-keys",
        forbidden=(
            keyschedule.KeySchedule.client_handshake_traffic_secret,
            keyschedule.KeySchedule.server_handshake_traffic_secret,
        ),
        notebook="07-the-handshake",
        func_name="handshake_traffic_keys",
        title="the handshake traffic keys (RFC 8446 §7.1, §7.3)",
        reference=handshake_traffic_keys_ref,
        fixed=lambda: [
            Case(
                (_v("ecdhe_shared_secret"), _v("client_hello") + _v("server_hello"), 16, "sha256"),
                "RFC 8448 §3: both directions' handshake key and IV",
            ),
            Case(
                (_v("ecdhe_shared_secret"), _v("client_hello") + _v("server_hello"), 32, "sha384"),
                f"{SHA384}: the same inputs, TLS_AES_256_GCM_SHA384",
            ),
        ],
        randomized=_htk_random,
        names=("client key", "client iv", "server key", "server iv"),
        mistakes=[
            Mistake(
                _htk_variant("swapped"),
                'the client\'s keys come from "c hs traffic", the server\'s from "s hs traffic"; yours are swapped',
            ),
            Mistake(
                _htk_variant("client-hello-only"),
                "the transcript is ClientHello *and* ServerHello: hash both messages",
            ),
            Mistake(
                _htk_variant("no-derived"),
                'the Handshake Secret\'s salt is Derive-Secret(Early Secret, "derived", ""), not the Early Secret',
            ),
        ],
        hints=(
            "Three of your functions from exercises 04 in a row: handshake_secret, derive_secret (twice), traffic_key_iv (twice).",
            'RFC 8446 §7.1 (client/server_handshake_traffic_secret = Derive-Secret(Handshake Secret, "c hs traffic" /'
            ' "s hs traffic", ClientHello...ServerHello)) and §7.3 (key and IV).',
            "hs = handshake_secret(shared_secret, hash_name)\n"
            "client_secret = derive_secret(hs, ____, hello_messages, hash_name)\n"
            "server_secret = derive_secret(hs, ____, hello_messages, hash_name)\n"
            "client_key, client_iv = traffic_key_iv(client_secret, key_length, hash_name)\n"
            "server_key, server_iv = traffic_key_iv(____, key_length, hash_name)\n"
            "return client_key, client_iv, server_key, server_iv",
        ),
        fill=("b'c hs traffic'", "b's hs traffic'", "server_secret"),
    )
)


# ---------------------------------------------------------------- CertificateVerify (§4.4.3)


def certificate_verify_ok_ref(cert: bytes, message: bytes, transcript_hash: bytes) -> bool:
    """Does the server's CertificateVerify ``message`` verify with ``cert``'s key over ``transcript_hash``?"""
    cv = decode_handshake(message)
    if not isinstance(cv, CertificateVerify):
        raise ValueError("not a CertificateVerify")
    from cryptography import x509

    content = signatures.certificate_verify_content(transcript_hash, server=True)
    try:
        signatures.verify_signature(x509.load_der_x509_certificate(cert), cv.algorithm, cv.signature, content)
    except TLSError:
        return False
    return True


_CV_CACHE: dict[str, object] = {}


def _ec_signer() -> tuple[bytes, object]:
    if "ec" not in _CV_CACHE:
        from tlslab.course.checks.t06_certificates import _make_cert

        _CV_CACHE["ec"] = _make_cert(["server.example"])
    return _CV_CACHE["ec"]  # type: ignore[return-value]


def _cv_case(rng: random.Random, good: bool) -> tuple[bytes, bytes, bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    cert, key = _ec_signer()
    th = _rand_bytes(rng, 32)
    signed = th if good else _rand_bytes(rng, 32)
    content = signatures.certificate_verify_content(signed, server=rng.random() < 0.7 or good)
    sig = key.sign(content, ec.ECDSA(hashes.SHA256()))  # type: ignore[attr-defined]
    return cert, CertificateVerify(0x0403, sig).encode(), th


def _rfc_cv() -> tuple[bytes, bytes, bytes]:
    th = hashlib.sha256(
        b"".join(
            _T[k] for k in ("client_hello", "server_hello", "encrypted_extensions", "server_certificate")
        )
    ).digest()
    return certificate_list_ref(_v("server_certificate"))[0], _v("server_certificate_verify"), th


def _cv_variant(kind: str) -> Callable[[bytes, bytes, bytes], bool]:
    def variant(cert: bytes, message: bytes, transcript_hash: bytes) -> bool:
        if kind == "always":
            return True
        if kind == "client":  # also what a function that always says False gives
            content = signatures.certificate_verify_content(transcript_hash, server=False)
            cv = decode_handshake(message)
            assert isinstance(cv, CertificateVerify)
            from cryptography import x509

            try:
                signatures.verify_signature(
                    x509.load_der_x509_certificate(cert), cv.algorithm, cv.signature, content
                )
            except TLSError:
                return False
            return True
        raise ValueError(kind)

    return variant


register(
    Task(
        id="certificate-verify-ok",
        forbidden=(signatures.verify_signature,),
        notebook="07-the-handshake",
        func_name="certificate_verify_ok",
        title="check the server's CertificateVerify (RFC 8446 §4.4.3)",
        reference=certificate_verify_ok_ref,
        fixed=lambda: [
            Case(_rfc_cv(), "RFC 8448: the server's RSA-PSS signature"),
            Case((*_rfc_cv()[:2], bytes(32)), "the same signature over another transcript hash"),
            Case(_cv_case(random.Random("good"), True), "an ECDSA P-256 signature that verifies"),
            Case(_cv_case(random.Random("bad"), False), "an ECDSA signature over other content"),
        ],
        randomized=lambda rng: [
            Case(_cv_case(rng, rng.random() < 0.5), f"random {i + 1}", False) for i in range(4)
        ],
        mistakes=[
            Mistake(
                _cv_variant("always"),
                "a signature over other content must fail: return False when verify raises InvalidSignature",
            ),
            Mistake(
                _cv_variant("client"),
                'a good signature fails with yours: the server signs "TLS 1.3, server CertificateVerify"'
                " (server=True), and the PSS salt is as long as the hash (32 bytes)",
            ),
        ],
        hints=(
            "Read the scheme and the signature from the message, build the signed content, then verify with the certificate's key.",
            "RFC 8446 §4.4.3 (struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; }) and §4.2.3"
            " (rsa_pss_rsae_sha256 = 0x0804: PSS, MGF1 with SHA-256, salt = 32 bytes; ecdsa_secp256r1_sha256 = 0x0403).",
            "scheme = int.from_bytes(message[4:6], 'big')\n"
            "signature = message[8 : 8 + int.from_bytes(message[6:8], 'big')]\n"
            "content = certificate_verify_content(transcript_hash, ____)\n"
            "key = x509.load_der_x509_certificate(cert).public_key()\n"
            "try:\n"
            "    if scheme == 0x0804:\n"
            "        key.verify(signature, content, padding.PSS(padding.MGF1(hashes.SHA256()), ____), hashes.SHA256())\n"
            "    elif scheme == 0x0403:\n"
            "        key.verify(signature, content, ec.ECDSA(hashes.SHA256()))\n"
            "    else:\n"
            "        return False\n"
            "except InvalidSignature:\n"
            "    return ____\n"
            "return True",
        ),
        fill=("True", "32", "False"),
    )
)
