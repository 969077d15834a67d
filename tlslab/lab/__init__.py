"""What the course runs beside the protocol: never imported by the protocol core.

- ``standin``: the offline stand-in for example.com (a CA minted on the spot) and
  ``reach_example_com()``, which picks the real server or the stand-in and says which.
- ``pki``: a small CA toolkit (``make_key``, ``make_ca``, ``issue``) for tests and notebooks.
- ``attacks``: a man in the middle, a relay with a tamper hook, downgrade and truncation demos.
- ``measure``: timing helpers and a timing server for notebook 10.
- ``serve``: the threaded socket driver behind ``tlslab serve``.
"""

from tlslab.lab.standin import SERVER_NAME, StandIn, Target, reach_example_com, start_stand_in

__all__ = ["SERVER_NAME", "StandIn", "Target", "reach_example_com", "start_stand_in"]
