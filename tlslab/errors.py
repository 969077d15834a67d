"""Alerts and the errors that carry them (RFC 8446 §6).

Every problem tlslab detects is a ``TLSError``. When the problem is the
peer's fault, the error is an ``AlertError`` subclass whose ``alert`` is the
RFC 8446 §6.2 description we send before closing; its message is for people::

    >>> str(IllegalParameter("server chose a cipher suite we did not offer"))
    'illegal_parameter: server chose a cipher suite we did not offer'

When the *peer* sends us a fatal alert, we raise ``PeerAlert``.
"""

from __future__ import annotations

from enum import IntEnum


class AlertLevel(IntEnum):
    """RFC 8446 §6: in TLS 1.3 the level is ignored except for close_notify."""

    warning = 1
    fatal = 2


class AlertDescription(IntEnum):
    """RFC 8446 §6 enum AlertDescription."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    record_overflow = 22
    handshake_failure = 40
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    missing_extension = 109
    unsupported_extension = 110
    unrecognized_name = 112
    bad_certificate_status_response = 113
    unknown_psk_identity = 115
    certificate_required = 116
    no_application_protocol = 120


class TLSError(OSError):
    """Base of everything tlslab raises about a connection.

    An ``OSError``, like ``ssl.SSLError``: code written for ``ssl`` (``except OSError``) catches it.
    """


class AlertError(TLSError):
    """We detected a protocol violation; ``alert`` is what we send the peer."""

    alert: AlertDescription = AlertDescription.internal_error

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.alert.name}: {self.reason}"


# One class per alert we raise; the docstring says when RFC 8446 asks for it.
class UnexpectedMessage(AlertError):
    """A message arrived out of order (§6.2)."""

    alert = AlertDescription.unexpected_message


class BadRecordMac(AlertError):
    """A record failed AEAD authentication (§5.2)."""

    alert = AlertDescription.bad_record_mac


class RecordOverflow(AlertError):
    """A record is longer than §5.1/§5.2 allow."""

    alert = AlertDescription.record_overflow


class HandshakeFailure(AlertError):
    """No acceptable set of parameters (§6.2)."""

    alert = AlertDescription.handshake_failure


class BadCertificate(AlertError):
    """A certificate is corrupt or fails a check."""

    alert = AlertDescription.bad_certificate


class UnsupportedCertificate(AlertError):
    """A certificate of an unsupported type."""

    alert = AlertDescription.unsupported_certificate


class CertificateExpired(AlertError):
    """A certificate is expired or not yet valid."""

    alert = AlertDescription.certificate_expired


class CertificateUnknown(AlertError):
    """A certificate is unacceptable for another reason."""

    alert = AlertDescription.certificate_unknown


class IllegalParameter(AlertError):
    """A field is out of range or inconsistent (§6.2)."""

    alert = AlertDescription.illegal_parameter


class UnknownCA(AlertError):
    """The chain does not lead to a trusted root."""

    alert = AlertDescription.unknown_ca


class DecodeError(AlertError):
    """A message could not be parsed: bad length or trailing bytes."""

    alert = AlertDescription.decode_error


class DecryptError(AlertError):
    """A signature or Finished check failed (§6.2)."""

    alert = AlertDescription.decrypt_error


class ProtocolVersion(AlertError):
    """The peer wants a version we do not speak."""

    alert = AlertDescription.protocol_version


class InsufficientSecurity(AlertError):
    """The peer's parameters are too weak."""

    alert = AlertDescription.insufficient_security


class InternalError(AlertError):
    """Something went wrong on our side."""

    alert = AlertDescription.internal_error


class MissingExtension(AlertError):
    """A mandatory extension is absent (§9.2)."""

    alert = AlertDescription.missing_extension


class UnsupportedExtension(AlertError):
    """An extension that is not allowed here."""

    alert = AlertDescription.unsupported_extension


class UnrecognizedName(AlertError):
    """The server has no name like that (RFC 6066)."""

    alert = AlertDescription.unrecognized_name


class UnknownPskIdentity(AlertError):
    """No acceptable PSK identity."""

    alert = AlertDescription.unknown_psk_identity


class CertificateRequired(AlertError):
    """A certificate was required but not sent."""

    alert = AlertDescription.certificate_required


class NoApplicationProtocol(AlertError):
    """No ALPN protocol in common (RFC 7301)."""

    alert = AlertDescription.no_application_protocol


class PeerAlert(TLSError):
    """The peer sent us an alert; ``alert`` says which."""

    def __init__(self, alert: AlertDescription | int, level: int = AlertLevel.fatal) -> None:
        try:
            self.alert: AlertDescription | int = AlertDescription(alert)
            name = self.alert.name
        except ValueError:
            self.alert, name = alert, f"unknown alert {alert}"
        self.level = level
        super().__init__(f"peer sent alert {name}")


class ConnectionLost(TLSError):
    """The transport went away without a TLS close: closed early, reset, or closed without close_notify.

    Not to be confused with the event ``tlslab.events.ConnectionClosed``: the peer's close_notify,
    a clean end (RFC 8446 §6.1).
    """


class TLSTimeout(TLSError, TimeoutError):
    """The peer stayed silent for longer than the timeout; a ``TimeoutError`` too, like ``socket.timeout``."""


_BY_ALERT: dict[AlertDescription, type[AlertError]] = {}
for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, AlertError) and _cls is not AlertError:
        _BY_ALERT[_cls.alert] = _cls


def error_for(alert: AlertDescription, reason: str) -> AlertError:
    """The ``AlertError`` subclass for ``alert``, e.g. for a table of hostile peers."""
    return _BY_ALERT.get(alert, AlertError)(reason)
