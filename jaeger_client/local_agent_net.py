"""Traffic to the local agent: the channel object upstream passes to Reporter and samplers.

STUB of the channel; HTTP fetches (sampling, credits, baggage restrictions) are added by the
remote control plane work.
"""

from __future__ import annotations

from typing import Any, Optional

from . import constants

__all__ = ["LocalAgentSender"]


class LocalAgentSender:
    """Where the agent is: reporting (UDP) and sampling/throttling (HTTP) host and ports.

    :param io_loop: accepted for compatibility with upstream and ignored (no Tornado is used)
    """

    def __init__(
        self,
        host: str = constants.DEFAULT_REPORTING_HOST,
        sampling_port: int = constants.DEFAULT_SAMPLING_PORT,
        reporting_port: int = constants.DEFAULT_REPORTING_PORT,
        io_loop: Any = None,
        throttling_port: Optional[int] = None,
    ) -> None:
        self.host = host
        self.sampling_port = sampling_port
        self.reporting_port = reporting_port
        self.throttling_port = throttling_port or sampling_port
        self.io_loop = io_loop
