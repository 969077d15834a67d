"""tlslab.course.checks: references, planted mistakes get their own hint, stubs, errors, timeouts, the capstone plug."""

from __future__ import annotations

import fnmatch
import random

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519 as cx25519

from tlslab import keyschedule, record
from tlslab.course import checks
from tlslab.course.checks import TASKS, check, grade_all, run_task
from tlslab.errors import TLSError
from tlslab.provider import DEFAULT_PROVIDER

CASE_TASKS = [t for t in TASKS.values() if t.runner is None]


def test_every_notebook_has_3_to_6_tasks() -> None:
    for slug in checks.NOTEBOOKS:
        assert 3 <= len(checks.tasks_for(slug)) <= 6, slug


@pytest.mark.parametrize("task", CASE_TASKS, ids=lambda t: t.id)
def test_reference_passes_with_hidden_cases(task: checks.Task) -> None:
    report = run_task(task, task.reference, graded=True, rng=random.Random(7))
    assert report.status == "passed" and report.points == task.points
    assert any(o.case.hidden for o in report.outcomes), "grading adds hidden cases"


@pytest.mark.parametrize("task", CASE_TASKS, ids=lambda t: t.id)
def test_each_task_knows_at_least_two_mistakes(task: checks.Task) -> None:
    assert len(task.mistakes) >= 2
    assert all(task.hints) and len(task.hints) == 3


PLANTED = [(t, i) for t in CASE_TASKS for i in range(len(t.mistakes))]


@pytest.mark.parametrize("task,index", PLANTED, ids=lambda x: x.id if isinstance(x, checks.Task) else str(x))
def test_planted_mistake_gets_its_own_hint(task: checks.Task, index: int) -> None:
    """Each known-wrong variant, handed to check() as the learner's answer, fails with exactly its hint."""
    mistake = task.mistakes[index]
    checks.reset_attempts()
    shown = check(task.id, mistake.variant)
    report = shown.report
    assert report.status == "failed" and report.points == 0
    first = next(o for o in report.outcomes if not o.ok)
    assert report.diagnosis == mistake.text(first.case.args)
    assert report.diagnosis in repr(shown) and "Nudge" in repr(shown)


def _hel_one_byte_length(secret, label, context, length, hash_name="sha256"):
    full = b"tls13 " + label
    info = bytes([length, len(full)]) + full + bytes([len(context)]) + context
    return keyschedule.hkdf_expand(secret, info, length, hash_name)


def _hel_no_prefix(secret, label, context, length, hash_name="sha256"):
    info = length.to_bytes(2, "big") + bytes([len(label)]) + label + bytes([len(context)]) + context
    return keyschedule.hkdf_expand(secret, info, length, hash_name)


def _nonce_gcm(iv, seq):
    return iv[:4] + seq.to_bytes(8, "big")


def _nonce_left(iv, seq):
    return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(8, "big") + bytes(4), strict=True))


def _decrypt_no_aad(key, iv, seq, rec):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    p = AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], b"")
    return p[-1], p[:-1]


def _inner_no_strip(p):
    return p[-1], p[:-1]


@pytest.mark.parametrize(
    "task_id,func,words",
    [
        ("hkdf-expand-label", _hel_one_byte_length, "length prefix should be 2 bytes; yours is 1"),
        ("hkdf-expand-label", _hel_no_prefix, '"tls13 " prefix'),
        ("per-record-nonce", _nonce_gcm, "TLS 1.2 GCM nonce"),
        ("per-record-nonce", _nonce_left, "*right* end of the IV"),
        ("decrypt-record", _decrypt_no_aad, "additional data is the 5-byte header"),
        ("inner-plaintext", _inner_no_strip, "strip the zero padding first"),
        ("hostname-match", lambda p, n: fnmatch.fnmatch(n.lower(), p.lower()), "exactly one label"),
        ("hostname-match", lambda p, n: p == n, "case-insensitively"),
    ],
)
def test_hand_written_wrong_answers(task_id: str, func, words: str) -> None:
    """Wrong answers written the way a learner would, independent of the registered variants."""
    assert words in check(task_id, func).report.diagnosis


def test_hex_string_none_and_stub_and_exception() -> None:
    def hexy(iv, seq):
        return record.per_record_nonce(iv, seq).hex()

    assert "hex string" in check("per-record-nonce", hexy).report.diagnosis
    assert "forget the `return`" in check("per-record-nonce", lambda iv, seq: None).report.diagnosis

    def stub(iv, seq):
        # YOUR CODE HERE
        raise NotImplementedError()

    shown = check("per-record-nonce", stub)
    assert shown.report.status == "not attempted" and "not attempted" in repr(shown)
    assert "Traceback" not in repr(shown)

    def boom(iv, seq):
        raise ValueError("bad\nthing")

    text = repr(check("per-record-nonce", boom))
    assert "ValueError: bad thing" in text and "Traceback" not in text


def test_timeout_stops_a_hanging_function() -> None:
    task = checks._with_time_limit(TASKS["per-record-nonce"], 0.3)

    def forever(iv, seq):
        while True:
            pass

    report = run_task(task, forever, graded=False)
    assert report.status == "timeout" and len(report.outcomes) == 1
    assert "longer than 0.3 s" in report.diagnosis


def test_hints_come_in_steps_and_random_expected_values_stay_hidden() -> None:
    checks.reset_attempts()
    task = TASKS["hkdf-expand-label"]
    for step in range(1, 5):
        shown = check("hkdf-expand-label", _hel_one_byte_length)
        assert shown.hints == list(task.hints[: min(step, 3)])
    html = shown._repr_html_()
    assert "<table" in html and "Shape of the answer" in html
    text = repr(shown)
    assert "expected 3fce516009c21727d0f2e4e86ee403bc" in text  # RFC 8448 value: public
    for o in shown.report.outcomes:
        if not o.case.public:
            assert o.expected.hex()[:16] not in text and o.expected.hex()[:16] not in html


def test_check_finds_the_function_by_name_in_the_caller() -> None:
    global per_record_nonce
    per_record_nonce = record.per_record_nonce
    try:
        assert check("per-record-nonce").report.status == "passed"
    finally:
        del per_record_nonce


def test_grade_all_reports_missing_and_points() -> None:
    result = grade_all({"per_record_nonce": record.per_record_nonce}, "05-aead-and-records")
    assert result["per-record-nonce"]["points"] == 2
    assert result["decrypt-record"] == {**result["decrypt-record"], "points": 0, "status": "missing"}
    assert (
        checks.guess_notebook({"decrypt_record": print, "per_record_nonce": print}) == "05-aead-and-records"
    )


def test_x25519_reference_agrees_with_cryptography() -> None:
    rng = random.Random(3)
    for _ in range(10):
        k, u = rng.randbytes(32), rng.randbytes(32)
        theirs = cx25519.X25519PrivateKey.from_private_bytes(k).exchange(
            cx25519.X25519PublicKey.from_public_bytes(u)
        )
        assert checks.x25519_ref(k, u) == theirs


def test_der_length_reference_reads_a_real_certificate() -> None:
    from tlslab.course.rfc8448 import trace

    cert = trace("simple_1rtt")["server_certificate"][11:]
    length, start = checks.der_length_ref(cert, 1)
    assert start + length == 0x1AC + 4 and start == 4


def test_learner_provider_runs_the_learners_pieces_without_patching() -> None:
    originals = (keyschedule.hkdf_expand_label, record.per_record_nonce, DEFAULT_PROVIDER.pieces())
    provider, calls = checks.learner_provider(
        hkdf_expand_label=keyschedule.hkdf_expand_label,
        per_record_nonce=record.per_record_nonce,
    )
    assert provider.hkdf_expand_label is calls["hkdf_expand_label"]
    protection = record.RecordProtection(checks._suite_for(16, "sha256"), b"\x01" * 32, provider)
    assert calls["hkdf_expand_label"].calls == 2  # the write key and the write IV (RFC 8446 §7.3)
    protection.encrypt(23, b"hi")
    assert calls["per_record_nonce"].calls == 1
    assert (keyschedule.hkdf_expand_label, record.per_record_nonce, DEFAULT_PROVIDER.pieces()) == originals
    with pytest.raises(KeyError):
        checks.learner_provider(not_a_piece=print)


def test_capstone_with_tlslab_pieces_completes_a_handshake() -> None:
    namespace = {
        "hkdf_expand_label": keyschedule.hkdf_expand_label,
        "derive_secret": keyschedule.derive_secret,
        "per_record_nonce": record.per_record_nonce,
        "finished_verify_data": keyschedule.finished_verify_data,
    }
    result = grade_all(namespace, "07-the-handshake")
    assert result["capstone"]["status"] == "passed" and result["capstone"]["points"] == 4
    broken = {**namespace, "per_record_nonce": _nonce_left}
    report = run_task(TASKS["capstone"], broken, graded=True)
    assert report.status == "failed" and "per_record_nonce" in report.diagnosis
    assert run_task(TASKS["capstone"], {}, graded=True).status == "missing"


def test_capstone_runs_the_pieces_on_the_server_too() -> None:
    pieces = {
        "hkdf_expand_label": keyschedule.hkdf_expand_label,
        "derive_secret": keyschedule.derive_secret,
        "per_record_nonce": record.per_record_nonce,
        "finished_verify_data": keyschedule.finished_verify_data,
    }
    report = run_task(TASKS["capstone"], pieces, graded=True)
    server_notes = [note for note in report.notes if note.startswith("tlslab's server called your")]
    assert len(server_notes) == 4 and not any(" 0 times" in note for note in server_notes), report.notes
    provider, calls = checks.learner_provider(**pieces)
    assert checks.serve_in_memory(provider).endswith(b"hello from tlslab's server")
    assert all(counter.calls > 0 for counter in calls.values())
    wrong, _ = checks.learner_provider(per_record_nonce=_nonce_left)
    with pytest.raises(TLSError):
        checks.serve_in_memory(wrong)


# ---------------------------------------------------------------- notebook 08's tasks


def _binder_hmac_of_bytes(psk, truncated, hash_name="sha256"):
    import hmac

    early = keyschedule.hkdf_extract(b"", psk, hash_name)
    binder_key = keyschedule.derive_secret(early, b"res binder", b"", hash_name)
    fk = keyschedule.finished_key(binder_key, hash_name)
    return hmac.digest(fk, truncated, hash_name)


def _binder_ext(psk, truncated, hash_name="sha256"):
    import hashlib

    early = keyschedule.hkdf_extract(b"", psk, hash_name)
    binder_key = keyschedule.derive_secret(early, b"ext binder", b"", hash_name)
    return keyschedule.finished_verify_data(binder_key, hashlib.new(hash_name, truncated).digest(), hash_name)


def _early_without_psk(psk, client_hello, hash_name="sha256"):
    early = keyschedule.KeySchedule(hash_name).early_secret
    return keyschedule.derive_secret(early, b"c e traffic", client_hello, hash_name)


def _early_exporter(psk, client_hello, hash_name="sha256"):
    return keyschedule.KeySchedule(hash_name, psk).early_exporter_master_secret(client_hello)


@pytest.mark.parametrize(
    "task_id,func,words",
    [
        ("psk-binder", _binder_hmac_of_bytes, "HMAC the transcript *hash*"),
        ("psk-binder", _binder_ext, '"res binder"'),
        ("early-traffic-secret", _early_without_psk, "IKM is the PSK"),
        ("early-traffic-secret", _early_exporter, '"e exp master"'),
        ("ticket-psk", lambda rms, nonce, h="sha256": rms, "do not return it"),
        (
            "ticket-psk",
            lambda rms, nonce, h="sha256": keyschedule.hkdf_expand_label(rms, b"resumption", b"", 32, h),
            "put the ticket_nonce in the context",
        ),
    ],
)
def test_hand_written_wrong_answers_08(task_id: str, func, words: str) -> None:
    """Notebook 08: wrong answers written the way a learner would, independent of the registered variants."""
    checks.reset_attempts()
    assert words in check(task_id, func).report.diagnosis


def test_08_references_give_rfc8448_values() -> None:
    """The references reproduce RFC 8448 §3/§4 (ticket PSK, binder, early traffic secret) on their own."""
    from tlslab.course.rfc8448 import trace

    simple, resumed = trace("simple_1rtt"), trace("resumed_0rtt")
    ticket_psk = TASKS["ticket-psk"].reference(simple["resumption_master_secret"], simple["ticket_nonce"])
    assert ticket_psk == simple["resumption_psk"] == resumed["psk"]
    binder = TASKS["psk-binder"].reference(resumed["psk"], resumed["client_hello_truncated"])
    assert binder == resumed["binder"] and resumed["client_hello"].endswith(binder)
    early = TASKS["early-traffic-secret"].reference(resumed["psk"], resumed["client_hello"])
    assert early == resumed["client_early_traffic_secret"]
    assert [t.id for t in checks.tasks_for("08-beyond-the-happy-path")] == [
        "ticket-psk",
        "psk-binder",
        "early-traffic-secret",
    ]
