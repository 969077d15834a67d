"""Helpers shared by several test files (imported as ``support.x``; nothing here is a test).

- ``peers``: real TLS 1.3 peers on loopback (openssl s_server, Python's ssl, tlslite-ng).
- ``hostile``: a tlslab server and client to misbehave with, in memory and on loopback.
- ``certforge``: certificates the builder refuses to make, re-signed by hand (certverify rules).
- ``nss``: RFC 8448's client (NSS's ClientHello) for the trace replays.
- ``children``: how CLI tests start a child process (Ctrl-C as at a terminal).
"""
