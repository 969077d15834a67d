"""tlslab: a small, readable, sans-I/O TLS 1.3 client and server (RFC 8446) for learning.

    >>> import tlslab
    >>> with tlslab.connect("example.com") as tls:          # doctest: +SKIP
    ...     print(tls.version(), tls.cipher())

``tlslab.connect`` reaches the real server and needs the network. Offline, the course plays
example.com with a local stand-in (a TLS 1.3 server on 127.0.0.1 with a CA minted on the spot):

    >>> from tlslab.lab import reach_example_com
    >>> with reach_example_com() as example, example.connect() as tls:   # doctest: +SKIP
    ...     print(example.describe(), tls.version())

``reach_example_com()`` picks the stand-in when ``TLSLAB_OFFLINE=1`` is set or example.com does
not answer, and ``describe()`` says which server it was. From a shell:
``python -m tlslab connect example.com --offline``. The protocol modules never import
``tlslab.lab`` or ``tlslab.course``. See docs/architecture.md for the map of modules.
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
