"""The one way out: every request o365check sends leaves through this package.

- :mod:`.egress`: the rule (a secret goes only to its identity host over TLS), checked on the
  exact prepared request, per hop;
- :mod:`.session`: the Session and its single adapter (egress, cassette, sandbox, network);
- :mod:`.target`: the one decision of live, sandbox, replay or record.

See docs/architecture.md "Transport".
"""

from __future__ import annotations

from .egress import Egress, host_of, is_loopback_host
from .session import DEFAULT_TIMEOUT, TransportAdapter, build_session, egress_of
from .target import Target, choose_cassette, describe_recording, open_target, open_transport

__all__ = [
    "DEFAULT_TIMEOUT",
    "Egress",
    "Target",
    "TransportAdapter",
    "build_session",
    "choose_cassette",
    "describe_recording",
    "egress_of",
    "host_of",
    "is_loopback_host",
    "open_target",
    "open_transport",
]
