"""tlslab: a small, readable, sans-I/O TLS 1.3 client (RFC 8446) for learning.

    >>> import tlslab
    >>> with tlslab.connect("example.com") as tls:          # doctest: +SKIP
    ...     print(tls.version(), tls.cipher())

See docs/architecture.md for the map of modules.
"""

from .client import ClientConfig, ClientConnection
from .connection import TLSSocket, connect, wrap_socket
from .errors import AlertDescription, AlertError, PeerAlert, TLSError, TLSTimeout

__version__ = "0.1.0"

__all__ = [
    "AlertDescription",
    "AlertError",
    "ClientConfig",
    "ClientConnection",
    "PeerAlert",
    "TLSError",
    "TLSSocket",
    "TLSTimeout",
    "__version__",
    "connect",
    "wrap_socket",
]
