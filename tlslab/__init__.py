"""tlslab: a small, readable, sans-I/O TLS 1.3 client (RFC 8446) for learning.

See docs/architecture.md for the map of modules.
"""

from .errors import AlertDescription, AlertError, PeerAlert, TLSError

__version__ = "0.1.0"

__all__ = ["AlertDescription", "AlertError", "PeerAlert", "TLSError", "__version__"]
