"""Fakes and helpers at our own seam (``jaeger_client.senders.Sender``) for the reporter tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional

from jaeger_client.reporter import Reporter
from jaeger_client.senders import SendResult

# outcome(span) -> "sent" | "too_large" | "failed"
Outcome = Callable[[Any], str]


class FakeSender:
    """Satisfies ``Sender``: records what it is given; can be told to fail, raise or block.

    ``expect(n)`` returns an Event set once ``n`` spans have been handed to ``send`` in total.
    Clear ``gate`` to make ``send`` block (``entered`` tells the test a send has started).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: list[Any] = []  # spans counted as sent
        self.batch_sizes: list[int] = []
        self.queue_dropped: list[int] = []
        self.threads: set[str] = set()
        self.process: Optional[tuple[str, dict[str, Any], int]] = None
        self.process_calls = 0
        self.closed = 0
        self.resets = 0
        self.outcome: Optional[Outcome] = None
        self.exception: Optional[BaseException] = None
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.on_send: Optional[Callable[[], Any]] = None
        self._handed = 0
        self._waiters: list[tuple[int, threading.Event]] = []

    def expect(self, count: int) -> threading.Event:
        event = threading.Event()
        with self.lock:
            if self._handed >= count:
                event.set()
            else:
                self._waiters.append((count, event))
        return event

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        self.process = (service_name, dict(tags), max_length)
        self.process_calls += 1

    def send(self, spans: Sequence[Any], queue_dropped: int) -> SendResult:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        self.gate.wait()
        if self.on_send is not None:
            self.on_send()
        sent = too_large = failed = 0
        kept = []
        for span in spans:
            result = self.outcome(span) if self.outcome is not None else "sent"
            if result == "sent":
                sent += 1
                kept.append(span)
            elif result == "too_large":
                too_large += 1
            else:
                failed += 1
        with self.lock:
            self.batch_sizes.append(len(spans))
            self.queue_dropped.append(queue_dropped)
            self._handed += len(spans)
            if self.exception is None:
                self.spans.extend(kept)
            for count, event in self._waiters:
                if self._handed >= count:
                    event.set()
        if self.exception is not None:
            raise self.exception
        return SendResult(sent, too_large, failed)

    def close(self) -> None:
        self.closed += 1

    def reset_after_fork(self) -> None:
        self.resets += 1


def make_reporter(sender: FakeSender, **kwargs: Any) -> Reporter:
    reporter = Reporter(None, sender=sender, **kwargs)
    reporter.set_process("svc", {"k": "v"}, 1024)
    return reporter


def reporter_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "jaeger-reporter"}
