"""tlslab.course.checks: references, planted mistakes get their own hint, stubs, errors, timeouts, the capstone plug."""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import inspect
import io
import random
import textwrap
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from tlslab import keyschedule, record
from tlslab.course import checks
from tlslab.course.checks import TASKS, check, grade_all, run_task
from tlslab.errors import TLSError
from tlslab.provider import DEFAULT_PROVIDER

CASE_TASKS = [t for t in TASKS.values() if t.runner is None]


def test_every_notebook_has_3_to_6_tasks_and_07_the_client() -> None:
    for slug in checks.NOTEBOOKS:
        most = (
            10 if slug == "07-the-handshake" else 6
        )  # 07 puts the client together: its steps and two capstones
        assert 3 <= len(checks.tasks_for(slug)) <= most, slug
    assert len([t for t in TASKS.values() if t.runner is None]) >= 35
    assert all("RFC" in t.title or "X.690" in t.title for t in CASE_TASKS)


@pytest.mark.parametrize("task", CASE_TASKS, ids=lambda t: t.id)
def test_reference_passes_with_hidden_cases(task: checks.Task) -> None:
    report = run_task(replace(task, forbidden=()), task.reference, graded=True, rng=random.Random(7))
    assert report.status == "passed" and report.points == task.points
    assert any(o.case.hidden for o in report.outcomes), "grading adds hidden cases"


@pytest.mark.parametrize("task", CASE_TASKS, ids=lambda t: t.id)
def test_each_task_knows_at_least_two_mistakes(task: checks.Task) -> None:
    assert len(task.mistakes) >= 2
    assert all(task.hints) and len(task.hints) == 3


PLANTED = [(t, i) for t in CASE_TASKS for i in range(len(t.mistakes))]


@pytest.mark.parametrize("task,index", PLANTED, ids=lambda x: x.id if isinstance(x, checks.Task) else str(x))
def test_planted_mistake_gets_its_own_hint(task: checks.Task, index: int, monkeypatch) -> None:
    """Each known-wrong variant, handed to check() as the learner's answer, fails with exactly its hint.

    (Variants may call tlslab's reference, which a learner's function may not: not flagged here.)"""
    monkeypatch.setattr(task, "forbidden", ())
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


def _nonce_right(iv, seq):
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(len(iv), "big")


def _nonce_gcm(iv, seq):
    return iv[:4] + seq.to_bytes(8, "big")


def _nonce_left(iv, seq):
    return bytes(a ^ b for a, b in zip(iv, seq.to_bytes(8, "big") + bytes(4), strict=True))


def _decrypt_no_aad(key, iv, seq, rec):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    p = AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], b"")
    return p[-1], p[:-1]


def _decrypt_then(decode):
    """A decrypt_record that decrypts right and takes the inner plaintext apart with ``decode``."""

    def decrypt_record(key, iv, seq, rec):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return decode(AESGCM(key).decrypt(record.per_record_nonce(iv, seq), rec[5:], rec[:5]))

    return decrypt_record


def _inner_no_strip(p):
    return p[-1], p[:-1]


def _pad_content_only(content_type, content, multiple):
    return content + bytes([content_type]) + bytes(-len(content) % multiple)


@pytest.mark.parametrize(
    "task_id,func,words",
    [
        ("hkdf-expand-label", _hel_one_byte_length, "length prefix should be 2 bytes; yours is 1"),
        ("hkdf-expand-label", _hel_no_prefix, '"tls13 " prefix'),
        ("per-record-nonce", _nonce_gcm, "TLS 1.2 GCM nonce"),
        ("per-record-nonce", _nonce_left, "*right* end of the IV"),
        ("decrypt-record", _decrypt_no_aad, "there is no additional data: it is the 5-byte record header"),
        ("decrypt-record", _decrypt_then(_inner_no_strip), "remove the zero padding"),
        ("inner-plaintext", _pad_content_only, "the type byte counts"),
        ("hostname-match", lambda p, n: fnmatch.fnmatch(n.lower(), p.lower()), "exactly one label"),
        ("hostname-match", lambda p, n: p == n, "case-insensitively"),
    ],
)
def test_hand_written_wrong_answers(task_id: str, func, words: str) -> None:
    """Wrong answers written the way a learner would, independent of the registered variants."""
    assert words in check(task_id, func).report.diagnosis


def test_hex_string_none_and_stub_and_exception() -> None:
    def hexy(iv, seq):
        return _nonce_right(iv, seq).hex()

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
    assert "<table" in html and "Skeleton" in html and "____" in html
    text = repr(shown)
    assert "expected 3fce516009c21727d0f2e4e86ee403bc" in text  # RFC 8448 value: public
    for o in shown.report.outcomes:
        if not o.case.public:
            assert o.expected.hex()[:16] not in text and o.expected.hex()[:16] not in html


def test_check_finds_the_function_by_name_in_the_caller() -> None:
    global per_record_nonce
    assert "run the cell that defines it" in repr(check("per-record-nonce"))
    per_record_nonce = _nonce_right
    try:
        assert check("per-record-nonce").report.status == "passed"
    finally:
        del per_record_nonce


def test_grade_all_reports_missing_and_points() -> None:
    result = grade_all({"per_record_nonce": _nonce_right}, "05-aead-and-records")
    assert result["per-record-nonce"]["points"] == 2
    assert result["decrypt-record"] == {**result["decrypt-record"], "points": 0, "status": "missing"}
    assert (
        checks.guess_notebook({"decrypt_record": print, "per_record_nonce": print}) == "05-aead-and-records"
    )


def test_x448_reference_agrees_with_cryptography() -> None:
    from cryptography.hazmat.primitives.asymmetric import x448 as cx448

    rng = random.Random(3)
    for _ in range(5):
        k, u = rng.randbytes(56), rng.randbytes(56)
        theirs = cx448.X448PrivateKey.from_private_bytes(k).exchange(cx448.X448PublicKey.from_public_bytes(u))
        assert checks.x448_ref(k, u) == theirs


def _notebook_namespace(slug: str) -> dict:
    """Every code cell of the course notebook ``slug`` run in one namespace, as a learner who copies it would."""
    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parent.parent / "notebooks" / f"{slug}.ipynb", as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "google.colab" not in cell.source:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
                exec(cell.source, namespace)  # (a cell may raise on purpose)
    return namespace


def test_a_copy_of_notebook_02s_x25519_does_not_answer_the_x448_tasks() -> None:
    namespace = _notebook_namespace("02-key-exchange")
    copies = {
        "x448-scalar": namespace["clamp"],
        "x448-ladder-step": namespace["ladder_step"],
        "x448": namespace["x25519"],
    }
    for task_id, func in copies.items():
        assert run_task(TASKS[task_id], func, graded=True).status != "passed", task_id


def test_hmac_and_hkdf_references_agree_with_python_and_cryptography_for_every_hash() -> None:
    import hmac as pyhmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from tlslab.course.checks.t03_hmac_hkdf import hkdf_expand_ref, hkdf_extract_ref

    algorithms = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha3_256": hashes.SHA3_256(),
        "sha512": hashes.SHA512(),
        "blake2s": hashes.BLAKE2s(32),
        "sha3_512": hashes.SHA3_512(),
    }
    assert {repr(h) for h, _ in checks.HASHES} == set(algorithms)
    for h, block in checks.HASHES:
        for key_length in (0, 20, block - 1, block, block + 1, 3 * block):
            key = bytes(range(key_length % 256)) * (key_length // 256 + 1)
            key = key[:key_length]
            assert checks.hmac_with_ref(key, b"m" * key_length, h, block) == pyhmac.digest(
                key, b"m" * key_length, repr(h)
            )
        salt, ikm, info = b"salt" * 40, b"input keying material", b"info"
        expected = HKDF(algorithms[repr(h)], 100, salt, info).derive(ikm)
        assert hkdf_expand_ref(hkdf_extract_ref(salt, ikm, h, block), info, 100, h, block) == expected


def test_a_copy_of_notebook_03s_hmac_and_hkdf_does_not_answer_the_exercises() -> None:
    namespace = _notebook_namespace("03-hmac-hkdf")
    copies = {
        "hmac": namespace["my_hmac"],
        "hkdf-extract": namespace["my_hkdf_extract"],
        "hkdf-expand": namespace["my_hkdf_expand"],
    }
    for task_id, func in copies.items():
        assert run_task(TASKS[task_id], func, graded=True).status != "passed", task_id


def test_a_copy_of_notebook_05s_inner_plaintext_does_not_answer_the_padding_policy() -> None:
    """Notebook 05's inner_plaintext(content_type, content, padding) takes the number of zeros; the
    task asks for the number itself (a multiple of N, capped at 2^14 + 1, RFC 8446 §5.4)."""
    namespace = _notebook_namespace("05-aead-and-records")
    task = TASKS["inner-plaintext"]
    assert run_task(task, namespace["inner_plaintext"], graded=True).status != "passed"
    uncapped = lambda t, c, m: namespace["inner_plaintext"](t, c, -(len(c) + 1) % m)  # noqa: E731
    report = run_task(task, uncapped, graded=True)
    assert report.status != "passed" and "2^14 + 1" in report.diagnosis


def test_a_copy_of_notebook_07s_finished_does_not_answer_finished_verify_data() -> None:
    """Notebook 07's finished(secret, transcript) is SHA-256 only and hashes the transcript itself;
    the task takes the transcript hash and any suite's hash, so neither the cell nor the cell's body
    moved into the task's signature scores: the second fails exactly the SHA-384 cases."""
    import hmac as pyhmac

    namespace = _notebook_namespace("07-the-handshake")
    task = TASKS["finished-verify-data"]
    assert run_task(task, namespace["finished"], graded=True).status != "passed"

    def adapted(base_key: bytes, transcript_hash: bytes, hash_name: str = "sha256") -> bytes:
        key = namespace["hkdf_expand_label"](base_key, b"finished", b"", 32)
        return pyhmac.digest(key, transcript_hash, "sha256")

    report = run_task(task, adapted, graded=True)
    assert report.status != "passed"
    failed = {o.case.args[2] for o in report.outcomes if o.status != "pass"}
    assert failed == {"sha384"}


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


def _hel(secret, label, context, length, hash_name="sha256"):
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return keyschedule.hkdf_expand(secret, info, length, hash_name)


def _ds(secret, label, messages, hash_name="sha256"):
    import hashlib

    th = hashlib.new(hash_name, messages).digest()
    return _hel(secret, label, th, len(th), hash_name)


def _fvd(base_key, transcript_hash, hash_name="sha256"):
    import hashlib
    import hmac

    fk = _hel(base_key, b"finished", b"", hashlib.new(hash_name).digest_size, hash_name)
    return hmac.digest(fk, transcript_hash, hash_name)


def _ds_wrong_app(secret, label, messages, hash_name="sha256"):  # passes the RFC cases, not the handshake
    return _ds(secret, label, messages + (b"!" if label == b"c ap traffic" else b""), hash_name)


PIECES = {
    "hkdf_expand_label": _hel,
    "derive_secret": _ds,
    "per_record_nonce": _nonce_right,
    "finished_verify_data": _fvd,
}


def test_capstone_with_learner_pieces_completes_a_handshake() -> None:
    result = grade_all(PIECES, "07-the-handshake")
    assert result["capstone"]["status"] == "passed" and result["capstone"]["points"] == 4
    broken = {**PIECES, "per_record_nonce": _nonce_left}
    report = run_task(TASKS["capstone"], broken, graded=True)
    assert report.status == "failed" and "per_record_nonce" in report.diagnosis
    assert run_task(TASKS["capstone"], {}, graded=True).status == "missing"


def test_capstone_runs_the_pieces_on_the_server_too() -> None:
    pieces = PIECES  # written as a learner would: tlslab's own would be refused ("uses tlslab")
    report = run_task(TASKS["capstone"], pieces, graded=True)
    server_notes = [note for note in report.notes if note.startswith("tlslab's server called your")]
    assert len(server_notes) == 4 and not any(" 0 times" in note for note in server_notes), report.notes
    provider, calls = checks.learner_provider(**pieces)
    assert checks.serve_in_memory(provider).endswith(b"hello from tlslab's server")
    assert all(counter.calls > 0 for counter in calls.values())
    wrong, _ = checks.learner_provider(per_record_nonce=_nonce_left)
    with pytest.raises(TLSError):
        checks.serve_in_memory(wrong)


def test_capstone_referee_names_the_first_wrong_call() -> None:
    report = run_task(TASKS["capstone"], {**PIECES, "derive_secret": _ds_wrong_app}, graded=True)
    assert report.status == "failed"
    assert "the first wrong value" in report.diagnosis and "derive_secret(" in report.diagnosis
    assert "b'c ap traffic'" in report.diagnosis and "Derive-Secret (RFC 8446 §7.1)" in report.diagnosis
    assert "the server refused: bad_record_mac" in report.diagnosis  # tlslab's server, in words
    tlslabs = run_task(TASKS["capstone"], {**PIECES, "derive_secret": keyschedule.derive_secret}, graded=True)
    assert tlslabs.status == "failed" and "uses tlslab's derive_secret" in tlslabs.diagnosis


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


# ---------------------------------------------------------------- hints never give the answer away

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def _solution_namespace(slug: str) -> tuple[dict, dict[str, str]]:
    """The solutions notebook's namespace (every code cell but the checks) and each function's parameters."""
    nb = nbformat.read(SOLUTIONS / f"{slug}.ipynb", as_version=4)
    namespace: dict = {"__name__": "solution"}
    params: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "google.colab" in cell.source or "check(" in cell.source:
            continue
        exec(compile(cell.source, slug, "exec"), namespace)
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                params[node.name] = ast.unparse(node.args)
    return namespace, params


def _pasted(task: checks.Task, body: str, slug_ns: tuple[dict, dict[str, str]]):
    namespace, params = slug_ns
    source = f"def {task.func_name}({params[task.func_name]}):\n" + textwrap.indent(body, "    ")
    ns = dict(namespace)
    try:
        exec(compile(source, "hint", "exec"), ns)
    except SyntaxError:
        return None
    return ns[task.func_name]


_NAMESPACES: dict[str, tuple[dict, dict[str, str]]] = {}


def _ns(slug: str) -> tuple[dict, dict[str, str]]:
    if slug not in _NAMESPACES:
        _NAMESPACES[slug] = _solution_namespace(slug)
    return _NAMESPACES[slug]


@pytest.mark.parametrize("task", CASE_TASKS, ids=lambda t: t.id)
def test_no_hint_pasted_in_scores(task: checks.Task) -> None:
    """Every hint a learner sees after three failed checks, pasted in as the body (whole, and line by
    line as code), fails grading; the skeleton with its blanks filled passes, SHA-384 cases included."""
    checks.reset_attempts()
    wrong = lambda *a: b"\x00"  # noqa: E731
    for _ in range(3):
        shown = check(task.id, wrong)
    assert shown.hints == list(task.hints)
    ns = _ns(task.notebook)
    for hint in shown.hints:
        for body in (hint, *[f"return {part}" for part in hint.split("; ")]):
            func = _pasted(task, body, ns)
            if func is not None:
                assert run_task(task, func, graded=True).status != "passed", body
    skeleton = task.hints[2]
    assert "____" in skeleton and skeleton.count("____") == len(task.fill)
    filled = skeleton
    for piece in task.fill:
        filled = filled.replace("____", piece, 1)
    func = _pasted(task, filled, ns)
    assert func is not None and run_task(task, func, graded=True).status == "passed", filled


# ---------------------------------------------------------------- the wrong functions issue 11 found


def _aes(key, iv, seq, rec, *, nonce=None, data=None, ad="header"):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ad = rec[:5] if ad == "header" else ad
    p = AESGCM(key).decrypt(nonce or _nonce_right(iv, seq), rec[5:] if data is None else data, ad)
    s = p.rstrip(b"\0")
    return s[-1], s[:-1]


def _host_crashes_on_one_label(pattern, name):
    p, n = pattern.lower(), name.lower()
    if p.startswith("*."):
        return n.split(".", 1)[1] == p[2:] and p.count(".") >= 2
    return p == n


def _host_accepts_empty_label(pattern, name):
    p, n = pattern.lower(), name.lower()
    if "*" not in p:
        return p == n
    return p.startswith("*.") and p.count(".") >= 2 and n.partition(".")[2] == p[2:]


def _keys_sha256_only(secret, key_length, hash_name="sha256"):
    from tlslab.keyschedule import hkdf_expand

    def label(lab, n):
        full = b"tls13 " + lab
        return hkdf_expand(secret, n.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00", n, "sha256")

    return label(b"key", key_length), label(b"iv", 12)


def _strip_both(plaintext):
    s = plaintext.strip(b"\x00")
    return s[-1], s[:-1]


def _strip_loop_both(plaintext):  # the same mistake, written as loops
    start, end = 0, len(plaintext)
    while plaintext[start] == 0:
        start += 1
    while plaintext[end - 1] == 0:
        end -= 1
    return plaintext[end - 1], plaintext[start : end - 1]


def _cets_long_label(psk, client_hello, hash_name="sha256"):
    early = keyschedule.hkdf_extract(b"", psk, hash_name)
    return keyschedule.derive_secret(early, b"client early traffic", client_hello, hash_name)


def _cets_psk_direct(psk, client_hello, hash_name="sha256"):
    return keyschedule.derive_secret(psk, b"c e traffic", client_hello, hash_name)


def _fin_sha256(base_key, transcript_hash, hash_name="sha256"):
    import hmac

    fk = keyschedule.hkdf_expand_label(base_key, b"finished", b"", 32)
    return hmac.new(fk, transcript_hash, "sha256").digest()


def _hel_twice(secret, label, context, length, hash_name="sha256"):
    full = b"tls13 tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return keyschedule.hkdf_expand(secret, info, length, hash_name)


def _ds_hashed_twice(secret, label, messages, hash_name="sha256"):
    import hashlib

    th = hashlib.new(hash_name, hashlib.new(hash_name, messages).digest()).digest()
    return keyschedule.hkdf_expand_label(secret, label, th, len(th), hash_name)


def _hrr_hash(client_hello1, hrr, client_hello2, hash_name="sha256"):
    import hashlib

    d = hashlib.new(hash_name, client_hello1).digest()
    return hashlib.new(hash_name, bytes([254, 0, 0, len(d)]) + d + hrr + client_hello2).digest()


def _sv_with_header(versions):
    body = bytes([2 * len(versions)]) + b"".join(v.to_bytes(2, "big") for v in versions)
    return b"\x00\x2b" + len(body).to_bytes(2, "big") + body


def _cvc_capital(transcript_hash, server=True):
    who = b"Server" if server else b"Client"
    return b" " * 64 + b"TLS 1.3, " + who + b" CertificateVerify\x00" + transcript_hash


@pytest.mark.parametrize(
    "task_id,func,words",
    [
        ("decrypt-record", _decrypt_then(_strip_both), "rstrip, not strip"),
        ("decrypt-record", _decrypt_then(_strip_loop_both), "rstrip, not strip"),
        ("hostname-match", _host_crashes_on_one_label, "IndexError"),
        ("hostname-match", _host_accepts_empty_label, "cannot be empty"),
        ("traffic-keys", _keys_sha256_only, "pass hash_name on"),
        ("early-traffic-secret", _cets_long_label, '"c e traffic"'),
        ("early-traffic-secret", _cets_psk_direct, "the PSK is not the Early Secret"),
        ("finished-verify-data", _fin_sha256, "use hash_name for both"),
        ("hkdf-expand-label", _hel_twice, '"tls13 " twice'),
        ("derive-secret", _ds_hashed_twice, "hashed twice"),
        ("hrr-transcript", _hrr_hash, "not their hash"),
        ("supported-versions", _sv_with_header, "only the extension_data"),
        ("certificate-verify-content", _cvc_capital, 'not "Server"'),
        ("decrypt-record", lambda k, iv, s, r: _aes(k, iv, s, r, data=r[5:-16]), "cut off the 16-byte tag"),
        ("decrypt-record", lambda k, iv, s, r: _aes(k, iv, s, r, nonce=iv), "the nonce is the IV itself"),
        ("decrypt-record", lambda k, iv, s, r: _aes(k, iv, s, r, ad=r), "only the 5-byte header"),
        (
            "decrypt-record",
            lambda k, iv, s, r: _aes(k, iv, s, r, nonce=_nonce_right(iv, s + 1)),
            "off by one",
        ),
    ],
)
def test_wrong_functions_fail_with_their_reason(task_id: str, func, words: str) -> None:
    """Wrong answers issue 11 found scoring (or misdiagnosed), each written as a learner would."""
    checks.reset_attempts()
    report = run_task(TASKS[task_id], func, graded=True, rng=random.Random(11))
    assert report.status == "failed" and report.points == 0
    assert words in report.diagnosis, report.diagnosis


def test_every_task_with_a_hash_name_has_a_public_sha384_case() -> None:
    for task in CASE_TASKS:
        if "hash_name" in inspect.signature(task.reference).parameters:
            assert any(c.args[-1] == "sha384" for c in task.fixed()), task.id


# ---------------------------------------------------------------- difference messages


def test_tuple_differences_name_every_element_and_swaps() -> None:
    from tlslab.course.checks.core import _first_difference

    assert _first_difference((b"a", b"b"), (b"b", b"a"), ("key", "iv")) == (
        "element 0 (key) and element 1 (iv) are swapped: the values are right, the order is not"
    )
    text = _first_difference((1, b"xx", b"yy"), (2, b"xz", b"yy"))
    assert "element 0: yours is 1, expected 2" in text and "element 1:" in text and "(1 of 3 agree)" in text
    assert "order" in _first_difference((1, 2, 3), (3, 1, 2))


def test_byte_differences_show_a_window_around_the_first_differing_byte() -> None:
    from tlslab.course.checks.core import _first_difference

    expected = bytes(range(40))
    got = expected[:30] + b"\xff" + expected[31:]
    text = _first_difference(got, expected)
    assert "at offset 30" in text and "[ff]" in text and "[1e]" in text
    assert "offset 30" in _first_difference(got, expected, public=False)
    assert "[1e]" not in _first_difference(got, expected, public=False)  # random cases: only your bytes
    assert "first 16 of the 32" in _first_difference(expected[:16], expected[:32])
    assert "extra bytes in front" in _first_difference(b"\x00\x2b" + expected, expected)


@pytest.mark.parametrize(
    "got,words",
    [
        ("00" * 12, "right value, but as a hex string"),
        ("ab" * 12, "hex string (str)"),
        ("hello", "not a str (text)"),
        (5, "not an int"),
        ([0] * 12, "list of ints"),
    ],
)
def test_type_mistakes_are_named(got, words: str) -> None:
    from tlslab.course.checks.core import _first_difference

    assert words in _first_difference(got, bytes(12))


def test_table_shows_bytes_around_the_difference() -> None:
    def late(secret, label, context, length, hash_name="sha256"):
        good = keyschedule.hkdf_expand(
            secret,
            length.to_bytes(2, "big")
            + bytes([6 + len(label)])
            + b"tls13 "
            + label
            + bytes([len(context)])
            + context,
            length,
            hash_name,
        )
        return good[:-1] + bytes([good[-1] ^ 1])

    text = repr(check("hkdf-expand-label", late))
    row = next(line for line in text.splitlines() if "server finished_key" in line)
    expected = TASKS["hkdf-expand-label"].fixed()[2]
    ref = keyschedule.hkdf_expand_label(*expected.args)
    assert ref.hex()[-10:] in row and "[" in row


def _wraps_derive_secret(secret, label, messages, hash_name="sha256"):
    from tlslab import keyschedule as ks

    return ks.derive_secret(secret, label, messages, hash_name)


def _schedule_handshake_secret(shared_secret, hash_name="sha256"):
    return keyschedule.KeySchedule(hash_name).set_handshake_secret(shared_secret)


@pytest.mark.parametrize(
    "task_id,func,used",
    [
        ("derive-secret", keyschedule.derive_secret, "derive_secret"),  # imported under the task's name
        ("derive-secret", _wraps_derive_secret, "derive_secret"),  # calls it
        ("hkdf-expand-label", lambda *a: keyschedule.hkdf_expand_label(*a), "hkdf_expand_label"),
        ("handshake-secret", _schedule_handshake_secret, "KeySchedule.set_handshake_secret"),
        ("per-record-nonce", record.per_record_nonce, "per_record_nonce"),
    ],
)
def test_using_tlslabs_own_function_is_flagged(task_id: str, func, used: str) -> None:
    checks.reset_attempts()
    shown = check(task_id, func)
    assert shown.report.status == "uses tlslab" and shown.report.points == 0
    assert f"uses tlslab's {used}" in repr(shown)
    assert (
        grade_all({TASKS[task_id].func_name: func}, TASKS[task_id].notebook)[task_id]["status"]
        == "uses tlslab"
    )


def test_stop_during_a_check_gives_one_line() -> None:
    def pressed_stop(iv, seq):
        raise KeyboardInterrupt

    text = repr(check("per-record-nonce", pressed_stop))
    assert "you pressed Stop" in text and "Traceback" not in text and len(text.splitlines()) <= 3


def test_a_helper_still_a_stub_is_named() -> None:
    def handshake_secret(shared_secret, hash_name="sha256"):
        # YOUR CODE HERE
        raise NotImplementedError()

    def handshake_traffic_keys(shared_secret, hello_messages, key_length, hash_name="sha256"):
        return handshake_secret(shared_secret, hash_name)

    report = check("handshake-traffic-keys", handshake_traffic_keys).report
    assert report.status == "failed" and "your handshake_secret is still a stub" in report.diagnosis


# ---------------------------------------------------------------- capstone 2: the learner's own client


def _own_client(planted: str = "") -> dict:
    namespace, _ = _solution_namespace("07-the-handshake")  # a fresh one: the planted code changes it
    exec(textwrap.dedent(planted), namespace)
    return namespace


def test_own_client_fetches_the_page() -> None:
    report = run_task(TASKS["my-client"], _own_client(), graded=True)
    assert report.status == "passed" and report.points == 6, report.diagnosis
    assert any("Example Domain" in n for n in report.notes)


def test_referee_names_the_first_wrong_call_of_the_own_client() -> None:
    namespace = _own_client(
        """
        _right = derive_secret
        def derive_secret(secret, label, messages, hash_name="sha256"):
            return _right(secret, label, messages[:-1] if label == b"s ap traffic" else messages, hash_name)
        """
    )
    report = run_task(TASKS["my-client"], namespace, graded=True)
    assert report.status == "failed"
    first = report.diagnosis.split(";")[0]
    assert (
        first.startswith("the first wrong value: call ")
        and "derive_secret(<32 bytes>, b's ap traffic'" in first
    )
    assert "differs at byte 0: yours [" in first and "tlslab's [" in first and "RFC 8446 §7.1" in first


def test_the_stand_in_says_why_it_refused() -> None:
    namespace = _own_client(
        """
        def encode_supported_versions(versions):
            return encode_vector(1, b"".join(v.to_bytes(2, "little") for v in versions))
        """
    )
    text = run_task(TASKS["my-client"], namespace, graded=True).diagnosis
    assert "encode_supported_versions([0x0304]) differs at byte 1" in text
    assert "the server refused: protocol_version:" in text


def _mutated(func):
    """``func`` with one thing wrong in its result: a flipped last byte, a negated bool, one more list item."""

    def wrong(*args, **kwargs):
        out = func(*args, **kwargs)
        if isinstance(out, bytes):
            return out[:-1] + bytes([out[-1] ^ 1])
        if isinstance(out, bool):
            return not out
        if isinstance(out, str):
            return out or "expired"
        if isinstance(out, list):
            return [*out, out[-1] if out else "example.org"]
        if isinstance(out, tuple):
            return (wrong_first(out[0]), *out[1:])
        raise AssertionError(type(out))

    def wrong_first(x):
        return x ^ 1 if isinstance(x, int) else x[:-1] + bytes([x[-1] ^ 1])

    return wrong


PLANTABLE = [
    "encode_server_name",
    "parse_server_hello",
    "handshake_secret",
    "derive_secret",
    "hkdf_expand_label",
    "traffic_key_iv",
    "per_record_nonce",
    "decrypt_record",
    "split_handshake",
    "certificate_list",
    "chain_problem",
    "san_dns_names",
    "certificate_verify_content",
    "certificate_verify_ok",
    "finished_verify_data",
    "server_finished_ok",
    "client_finished_record",
    "encrypt_record",
]


@pytest.mark.parametrize("name", PLANTABLE)
def test_a_mistake_planted_in_any_piece_is_named_by_the_referee(name: str) -> None:
    namespace = _own_client()
    namespace[name] = _mutated(namespace[name])
    namespace[name].__module__ = namespace["__name__"]
    report = run_task(TASKS["my-client"], namespace, graded=True)
    assert report.status == "failed" and report.points == 0
    first = report.diagnosis.split(";")[0]  # a wrong SNI or an extra name: the page comes, the value is named
    assert "the first wrong value: call " in first and f" {name}(" in first, report.diagnosis


@pytest.mark.parametrize(
    "planted,used",
    [
        ("from tlslab.keyschedule import derive_secret", "tlslab's derive_secret"),
        (
            "from tlslab.connection import connect\n"
            "def handshake(host, port, server_name, root):\n"
            "    return connect(host, port, server_hostname=server_name).recv_all()\n",
            "tlslab's connect",
        ),
    ],
)
def test_the_own_client_may_not_use_tlslabs(planted: str, used: str) -> None:
    report = run_task(TASKS["my-client"], _own_client(planted), graded=True)
    assert report.status == "uses tlslab" and report.points == 0 and used in report.diagnosis, (
        report.diagnosis
    )


# --- decrypt-record's diagnosis: records sealed with each mistake, handed to the learner's function


@pytest.mark.parametrize("key_len", [16, 32])
def test_each_mistake_record_opens_only_with_its_mistake(key_len: int) -> None:
    """The probes are honest: AES-GCM opens each with exactly the inputs its mistake names, and a
    correct decrypt_record opens none (so a diagnosis never blames a right function)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from tlslab.course.checks import t05_records as t05

    rng = random.Random(key_len)
    key, iv, seq = rng.randbytes(key_len), rng.randbytes(12), 7
    made, nonces = 0, t05._wrong_nonces(iv, seq)
    assert len({nonce for _, nonce in nonces}) == len(nonces) >= 5
    for mistake, nonce in nonces:
        for data in (None, "no-tag", "whole"):
            for ad in (None, "none", "whole"):
                if ad == "whole" and data is not None:
                    continue
                probe = t05._sealed_with_mistake(key, nonce, data, ad)
                assert probe is not None, (mistake, data, ad)
                rec, (ctype, content) = probe
                made += 1
                ciphertext = {None: rec[5:], "no-tag": rec[5:-16], "whole": rec}[data]
                additional = {None: rec[:5], "none": b"", "whole": rec}[ad]
                assert AESGCM(key).decrypt(nonce, ciphertext, additional) == content + bytes([ctype])
                if (mistake, data, ad) != (None, None, None):
                    with pytest.raises(InvalidTag):
                        t05._decrypt_ref(key, iv, seq, rec)
    assert made == len(nonces) * 7  # the right nonce, the IV, seq +-1, the nonce-function slips


def test_two_aead_mistakes_are_both_named_whatever_the_function_imports_or_prints(capsys) -> None:
    """AESGCM imported inside the function (no module-level name to look at) and a debug print:
    the diagnosis still names the IV nonce and the missing additional data, and prints nothing."""

    def decrypt_record(key, iv, seq, rec):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        print("decrypting record", seq)
        plaintext = AESGCM(key).decrypt(iv, rec[5:], None).rstrip(b"\0")
        return plaintext[-1], plaintext[:-1]

    checks.reset_attempts()
    report = run_task(TASKS["decrypt-record"], decrypt_record, graded=True, rng=random.Random(5))
    assert report.status == "failed"
    assert "the nonce is the IV itself" in report.diagnosis
    assert "there is no additional data" in report.diagnosis
    assert capsys.readouterr().out.count("decrypting record") <= 10  # the graded cases, not each probe
