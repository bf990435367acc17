"""A thin UDP socket wrapper with Thrift's transport interface, kept for upstream's import path.

The reporter does not use it: spans go through :class:`jaeger_client.senders.UDPSender`, which
resolves on its worker thread, connects, and bounds datagram sizes.
"""

from __future__ import annotations

import logging
import socket
from typing import Optional

from thrift.transport.TTransport import TTransportBase

from .constants import LOGGER_NAME

__all__ = ["TUDPTransport"]

logger = logging.getLogger(LOGGER_NAME)  # upstream's module attribute


class TUDPTransport(TTransportBase):  # type: ignore[misc]  # thrift is untyped
    """Writes each buffer as one datagram to ``(host, port)``; blind, like upstream's.

    The socket family comes from ``getaddrinfo`` (IPv4 if the name cannot be resolved), as in
    upstream 4.8; construction therefore may resolve ``host``.
    """

    DEFAULT_SOCKET_FAMILY = socket.AF_INET

    def __init__(self, host: str, port: int, blocking: bool = False) -> None:
        self.transport_host = host
        self.transport_port = port
        self.transport_sock: Optional[socket.socket] = self._create_socket()
        self.transport_sock.setblocking(bool(blocking))

    def _create_socket(self) -> socket.socket:
        family, type_, proto = self.DEFAULT_SOCKET_FAMILY, socket.SOCK_DGRAM, socket.IPPROTO_UDP
        try:
            infos = socket.getaddrinfo(self.transport_host, self.transport_port, 0, type_)
        except (OSError, UnicodeError):  # unresolvable now; sendto() resolves again
            infos = []
        if infos:
            family, type_, proto = infos[0][:3]
        return socket.socket(family, type_, proto)

    def write(self, buf: bytes) -> int:
        """Send ``buf`` as one datagram; returns the number of bytes sent."""
        if self.transport_sock is None:
            raise OSError("TUDPTransport is closed")
        return self.transport_sock.sendto(buf, (self.transport_host, self.transport_port))

    def isOpen(self) -> bool:  # Thrift's transport API (camelCase)
        """True until ``close()``: UDP has no connection to lose."""
        return self.transport_sock is not None

    def close(self) -> None:
        if self.transport_sock is not None:
            self.transport_sock.close()
            self.transport_sock = None
