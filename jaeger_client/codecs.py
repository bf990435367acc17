"""STUB: replaced by the codecs work. Interface only."""

from __future__ import annotations

from typing import Any, Optional

from .span_context import SpanContext


class Codec:
    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        raise NotImplementedError()

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        raise NotImplementedError()


class TextCodec(Codec):
    def __init__(self, url_encoding: bool = False, trace_id_header: str = "uber-trace-id",
                 baggage_header_prefix: str = "uberctx-", debug_id_header: str = "jaeger-debug-id",
                 *, metrics: Any = None) -> None:
        pass


class BinaryCodec(Codec):
    def __init__(self, *, metrics: Any = None) -> None:
        pass


class ZipkinCodec(Codec):
    pass
