"""What the course shows and grades: never imported by the protocol core.

- ``nb``: notebook display helpers (``show_source``, ``hexdump``, ``annotated_hex``, ``hex_explorer``).
- ``annotate``: field-by-field spans of records and handshake messages.
- ``der``: a from-scratch DER reader for notebook 06 (teaching; real parsing is ``cryptography``'s).
- ``rfc8448``: RFC 8448's example traces as bytes.
- ``figures``: matplotlib figures drawn from computed values.
- ``checks``: the exercise tasks and ``check(task_id, func)``.
- ``grade``: the instructor's grader (``tlslab grade``).
- ``build``: ``python -m tlslab.course build|check`` writes ``exercises/`` from ``solutions/``.
"""
