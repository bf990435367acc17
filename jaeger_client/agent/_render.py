"""Showing received spans: a trace as an indented tree, a span as one JSON line, and the printer
that holds a trace back until it has been quiet for a moment."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Callable, Optional, TextIO

from ._model import ReceivedSpan, Trace

__all__ = ["TracePrinter", "format_trace", "span_to_json", "write_line"]

DEFAULT_MAX_VALUE_LENGTH = 200
_REMEMBERED_TRACES = 1000  # printed traces kept so a late span reprints its whole trace


def format_duration(micros: int) -> str:
    if abs(micros) < 1000:
        return f"{micros} us"
    if abs(micros) < 1_000_000:
        return f"{micros / 1000:.3f} ms"
    return f"{micros / 1_000_000:.3f} s"


def _format_value(value: Any, max_length: int) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, bytes):
        text = "0x" + value.hex()
    elif isinstance(value, str):
        # one line per tag: quote anything with spaces, separators or line breaks
        plain = value and not any(c.isspace() or c in '=",' for c in value)
        text = value if plain else json.dumps(value, ensure_ascii=False)
    else:
        text = repr(value)
    if max_length and len(text) > max_length:
        text = f"{text[:max_length]}... ({len(text) - max_length} more chars)"
    return text


def _format_fields(fields: dict[str, Any], max_length: int) -> str:
    return " ".join(f"{key}={_format_value(value, max_length)}" for key, value in fields.items())


def _flag_names(span: ReceivedSpan) -> str:
    names = ["sampled" if span.is_sampled else "not sampled"]
    if span.is_debug:
        names.append("debug")
    return ", ".join(names)


def format_trace(
    trace: Trace, *, max_value_length: int = DEFAULT_MAX_VALUE_LENGTH, note: str = ""
) -> str:
    """Render ``trace`` as an ASCII tree: children under their parents, ordered by start time.

    Each span line shows service, operation, duration, offset from the trace's start and flags;
    under it come its tags, logs (offset from the span's start) and any references other than its
    parent. A span whose parent was not received is shown at the top level, marked.

    :param max_value_length: cut longer tag values (0 = never)
    :param note: appended to the header line, e.g. ``"update: +1 span"``
    """
    spans = trace.spans
    trace_start = min((s.start_time_us for s in spans), default=0)
    services = trace.services
    header = (
        f"trace {trace.trace_id_hex}: {len(spans)} span{'s' if len(spans) != 1 else ''}, "
        f"{len(services)} service{'s' if len(services) != 1 else ''}, "
        f"{format_duration(trace.duration_us)}"
    )
    lines = [f"{header} ({note})" if note else header]
    shown: set[str] = set()
    for span in spans:
        if span.service_name not in shown:
            shown.add(span.service_name)
            process = _format_fields(span.process_tags, max_value_length)
            lines.append(f"  process {span.service_name}: {process}".rstrip())
    walked = list(trace.walk())
    ids = {s.span_id for s in spans}
    is_last = _last_siblings(walked)
    open_levels: list[bool] = []  # per depth: does a later sibling still follow (draw "|")?
    for i, (span, depth) in enumerate(walked):
        del open_levels[depth:]
        prefix = "".join("|  " if more else "   " for more in open_levels)
        has_children = i + 1 < len(walked) and walked[i + 1][1] > depth
        head = (
            f"{span.service_name}: {span.operation_name}  {format_duration(span.duration_us)}"
            f"  at +{format_duration(span.start_time_us - trace_start)}  [{_flag_names(span)}]"
            f"  span={span.span_id_hex}"
        )
        if depth == 0 and span.effective_parent_id and span.effective_parent_id not in ids:
            head += f"  (parent {span.effective_parent_id:016x} not received)"
        lines.append(f"{prefix}{'`- ' if is_last[i] else '|- '}{head}")
        open_levels.append(not is_last[i])
        detail = prefix + ("   " if is_last[i] else "|  ") + ("|  " if has_children else "   ")
        if span.tags:
            lines.append(f"{detail}tags: {_format_fields(span.tags, max_value_length)}")
        for log in span.logs:
            offset = format_duration(log.timestamp_us - span.start_time_us)
            lines.append(f"{detail}log +{offset}: {_format_fields(log.fields, max_value_length)}")
        for ref in span.references:
            if ref.ref_type == "child_of" and ref.span_id == span.effective_parent_id:
                continue
            lines.append(f"{detail}ref {ref.ref_type} {ref.trace_id:016x}:{ref.span_id:016x}")
    return "\n".join(lines) + "\n"


def _last_siblings(walked: list[tuple[ReceivedSpan, int]]) -> list[bool]:
    """For each entry of a depth-first walk: has it no later sibling (so its guide line ends)?"""
    result = [True] * len(walked)
    follows: list[bool] = []  # per depth, walking backwards: was a sibling seen at this depth?
    for i in range(len(walked) - 1, -1, -1):
        depth = walked[i][1]
        del follows[depth + 1 :]  # deeper entries seen so far belong to this span's subtree
        follows.extend([False] * (depth + 1 - len(follows)))
        result[i] = not follows[depth]
        follows[depth] = True
    return result


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"binary": base64.b64encode(value).decode("ascii")}
    return value


def _json_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in fields.items()}


def span_to_json(span: ReceivedSpan) -> dict[str, Any]:
    """One span as a JSON-ready dict (binary tag values as ``{"binary": base64}``)."""
    return {
        "trace_id": span.trace_id_hex,
        "span_id": span.span_id_hex,
        "parent_span_id": span.parent_id_hex if span.parent_id else None,
        "service": span.service_name,
        "operation": span.operation_name,
        "start_time_us": span.start_time_us,
        "duration_us": span.duration_us,
        "flags": span.flags,
        "sampled": span.is_sampled,
        "debug": span.is_debug,
        "tags": _json_fields(span.tags),
        "logs": [
            {"timestamp_us": log.timestamp_us, "fields": _json_fields(log.fields)}
            for log in span.logs
        ],
        "references": [
            {
                "type": ref.ref_type,
                "trace_id": f"{ref.trace_id:016x}",
                "span_id": f"{ref.span_id:016x}",
            }
            for ref in span.references
        ],
        "process_tags": _json_fields(span.process_tags),
        "transport": span.transport,
    }


def write_line(stream: TextIO, text: str, lock: threading.Lock) -> bool:
    """Write and flush ``text`` whole; False if the stream is gone (closed pipe)."""
    with lock:
        try:
            try:
                stream.write(text)
            except UnicodeEncodeError:  # a console that cannot show every character
                encoding = getattr(stream, "encoding", None) or "ascii"
                stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
            stream.flush()
        except (OSError, ValueError):  # broken pipe, or a closed stream at interpreter exit
            return False
    return True


class TracePrinter:
    """Buffers spans per trace and emits a trace once no span for it arrived for ``quiet_interval``.

    Thread model: ``add`` is called from the agent's receiving threads; one daemon thread
    (``jaeger-agent-printer``) calls ``emit`` for traces that went quiet; ``close`` (any thread)
    stops it and emits everything still pending. A span arriving for an already-emitted trace
    makes that trace pending again, and it is emitted whole with a note. ``flush_due(now)`` is
    the thread's single step, callable directly in tests.
    """

    def __init__(
        self,
        emit: Callable[[Trace, str], None],
        quiet_interval: float = 1.5,
        *,
        clock: Callable[[], float] = time.monotonic,
        start_thread: bool = True,
    ) -> None:
        if quiet_interval < 0:
            raise ValueError(f"quiet_interval must be >= 0 seconds, got {quiet_interval!r}")
        self._emit = emit
        self._quiet = quiet_interval
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: dict[int, tuple[list[ReceivedSpan], float, int]] = {}  # spans, last, new
        self._printed: OrderedDict[int, list[ReceivedSpan]] = OrderedDict()
        self._closed = False
        self._thread: Optional[threading.Thread] = None
        if start_thread:
            self._thread = threading.Thread(
                target=self._run, name="jaeger-agent-printer", daemon=True
            )
            self._thread.start()

    def add(self, spans: Iterable[ReceivedSpan]) -> None:
        now = self._clock()
        with self._cond:
            for span in spans:
                entry = self._pending.get(span.trace_id)
                if entry is None:
                    earlier = self._printed.pop(span.trace_id, [])
                    entry = (list(earlier), now, 0)
                members, _, new = entry
                members.append(span)
                self._pending[span.trace_id] = (members, now, new + 1)
            self._cond.notify()

    def _take(self, due: Callable[[float], bool]) -> list[tuple[Trace, str]]:
        out: list[tuple[Trace, str]] = []
        with self._cond:
            for trace_id, (members, last, new) in list(self._pending.items()):
                if not due(last):
                    continue
                del self._pending[trace_id]
                self._printed[trace_id] = members
                while len(self._printed) > _REMEMBERED_TRACES:
                    self._printed.popitem(last=False)
                note = (
                    "" if new == len(members) else f"update: +{new} span{'s' if new != 1 else ''}"
                )
                out.append((Trace(trace_id, tuple(members)), note))
        return out

    def flush_due(self, now: Optional[float] = None) -> int:
        """Emit every trace quiet since ``now - quiet_interval``; return how many were emitted."""
        limit = (self._clock() if now is None else now) - self._quiet
        ready = self._take(lambda last: last <= limit)
        for trace, note in ready:
            self._emit(trace, note)
        return len(ready)

    def _next_deadline(self) -> Optional[float]:
        if not self._pending:
            return None
        return min(last for _, last, _ in self._pending.values()) + self._quiet

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    deadline = self._next_deadline()
                    if deadline is not None and deadline <= self._clock():
                        break
                    self._cond.wait(None if deadline is None else deadline - self._clock())
                if self._closed:
                    return
            try:
                self.flush_due()
            except Exception:  # top of the printer thread: a bad trace must not stop printing
                continue

    def close(self) -> None:
        """Stop the thread and emit all pending traces, quiet or not. Safe to call twice."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for trace, note in self._take(lambda last: True):
            self._emit(trace, note)
