"""Fork hooks that hold their owner weakly, so a collected tracer or reporter is never revived.

One ``os.register_at_fork`` hook serves every owner: hooks can never be unregistered, so one per
tracer would pile up in a process (or a test suite) that creates many tracers.

A process forked by a plain ``fork(2)`` runs no Python fork hooks: uWSGI forks its workers so
unless started with ``--py-call-uwsgi-fork-hooks``. ``check_pid`` catches that case: the tracer
calls it when a span starts at least ``GATE_INTERVAL`` after the previous check (``GATE`` holds
that time: one comparison per span, one ``getpid`` a millisecond at most), and it runs the hooks
in a child that has not run them. So the first span a uWSGI worker starts already draws its ids
from a reseeded generator and goes to the worker's own queue and thread.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
import weakref
from typing import Any, Callable

from .constants import LOGGER_NAME

__all__ = [
    "GATE",
    "GATE_INTERVAL",
    "after_fork_in_child",
    "check_pid",
    "is_uwsgi_master",
    "warn_if_threads_starve",
]

_lock = threading.Lock()
# (hook, the pid it was registered in): a late run (check_pid) skips the child's own objects
_methods: list[tuple[weakref.WeakMethod[Callable[[], Any]], int]] = []
_prune_at = 64  # drop dead references once the list has grown past this


def after_fork_in_child(method: Callable[[], Any]) -> None:
    """Call bound ``method`` in every forked child while its object is alive.

    Methods run in registration order, in the child, right after ``fork()`` returns there (or at
    the child's first span, see ``check_pid``). One that raises is logged and does not stop the
    others.
    """
    global _prune_at
    ref: weakref.WeakMethod[Callable[[], Any]] = weakref.WeakMethod(method)
    with _lock:
        _methods.append((ref, os.getpid()))
        if len(_methods) > _prune_at:
            _methods[:] = [(r, pid) for r, pid in _methods if r() is not None]
            _prune_at = max(64, 2 * len(_methods))


# [next, last]: time.time() from which a span start calls check_pid, and when it last did; a
# start before ``last`` (the clock stepped back) checks too. A list: read and set in place.
GATE = [0.0, 0.0]
GATE_INTERVAL = 0.001
_hooked_pid = os.getpid()  # the process whose hooks have run (or that needed none)
# pid -> (the thread running the hooks there, set once they have run)
_claims: dict[int, tuple[int, threading.Event]] = {}
_running: set[int] = set()  # pids where the claimant is running the hooks


def check_pid(now: float) -> None:
    """Run the fork hooks here if this process was forked without running them.

    One thread runs them; another that gets here meanwhile waits for them (up to 5 s) rather
    than go on with the parent's state. Hooks of objects made in this process are skipped.
    """
    pid = os.getpid()
    if pid != _hooked_pid:
        me = threading.get_ident()
        claim = _claims.setdefault(pid, (me, threading.Event()))  # atomic: one claimant
        if claim[0] == me:
            if not claim[1].is_set() and pid not in _running:  # not again from inside a hook
                _running.add(pid)
                try:
                    logging.getLogger(LOGGER_NAME).info(
                        "process %d was forked without Python's fork hooks (uWSGI without "
                        "--py-call-uwsgi-fork-hooks?): resetting the tracer's state here",
                        pid,
                    )
                    _run_in_child()
                finally:
                    claim[1].set()
        else:
            claim[1].wait(5.0)
    GATE[1] = now
    GATE[0] = now + GATE_INTERVAL


def _run_in_child() -> None:
    global _lock, _hooked_pid
    pid = os.getpid()
    # Another thread of the parent may have held the lock at fork time; it does not exist here.
    _lock = threading.Lock()
    for ref, registered_in in list(_methods):
        method = ref()
        if method is None or registered_in == pid:  # made here, after the fork: nothing to reset
            continue
        try:
            method()
        except Exception:  # one owner's broken hook must not leave the others un-reset
            logging.getLogger(LOGGER_NAME).exception("after-fork hook %r failed", method)
    _hooked_pid = pid  # last: a thread in check_pid meanwhile waits for the claimant


if hasattr(os, "register_at_fork"):  # pragma: no branch - absent only on Windows
    os.register_at_fork(after_in_child=_run_in_child)


_threads_checked = False
# uWSGI runs Python threads without --enable-threads from 2.0.28 on (measured: 2.0.26 does not)
_UWSGI_THREADS_BY_DEFAULT = (2, 0, 28)


def warn_if_threads_starve(uwsgi: Any = None) -> bool:
    """Warn once per process when background threads cannot run between requests: uWSGI before
    2.0.28 started without ``--enable-threads`` (or ``--threads``, or ``--gevent``) keeps the GIL
    while it waits. ``uwsgi`` is the server's module (default: the one it installs in
    ``sys.modules``); returns whether it warned."""
    global _threads_checked
    if uwsgi is None:
        if _threads_checked:
            return False
        _threads_checked = True
        uwsgi = sys.modules.get("uwsgi")
    options = getattr(uwsgi, "opt", None)
    if not isinstance(options, dict):
        return False
    version = getattr(uwsgi, "version", b"")
    if isinstance(version, (bytes, bytearray)):
        version = version.decode("ascii", "replace")
    numbers = tuple(int(part) for part in re.findall(r"\d+", str(version))[:3])
    if numbers >= _UWSGI_THREADS_BY_DEFAULT:
        return False
    # --threads enables Python threads whatever its value; --gevent runs greenlets instead
    if _is_on(options.get("enable-threads")) or "threads" in options or "gevent" in options:
        return False
    logging.getLogger(LOGGER_NAME).warning(
        "uWSGI %s runs without --enable-threads: the tracer's reporter thread only runs while a "
        "request runs Python code, so spans wait for the next request (and a remote sampler "
        "stops polling). Start uWSGI with --enable-threads.",
        version,
    )
    return True


def _is_on(value: Any) -> bool:
    """A uWSGI option's value as ``uwsgi.opt`` holds it (True, bytes, or a list if repeated)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("ascii", "replace")
    if value is None or value is False:
        return False
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on")


_master_seen: list[Any] = [0, 0.0, False]  # [pid, monotonic deadline, answer]


def is_uwsgi_master(uwsgi: Any = None) -> bool:
    """Whether this is uWSGI's master process (where uWSGI loads the app unless ``--lazy-apps``).

    A thread started there is inherited by every worker uWSGI forks, without Python's fork
    handling: a worker can then hang for good on the GIL (unbit/uwsgi#1149, #1369; seen here in
    a test run). So the reporter and the pollers start their threads in the workers instead.
    Called only where a thread would start, never per span. ``uwsgi`` is the server's module
    (default: the one it installs in ``sys.modules``).
    """
    if uwsgi is None:
        uwsgi = sys.modules.get("uwsgi")
        if uwsgi is None:
            return False
        now = time.monotonic()
        pid, until, answer = _master_seen
        if pid == os.getpid() and now < until:
            return bool(answer)
        answer = is_uwsgi_master(uwsgi)
        # kept a second: asked on every span the master reports (it never gets a thread), and a
        # uWSGI without --master loads the app as "worker 0" before it becomes worker 1
        _master_seen[:] = [os.getpid(), now + 1.0, answer]
        return answer
    try:
        if uwsgi.worker_id() != 0:
            return False
        mule_id = getattr(uwsgi, "mule_id", None)
        if mule_id is not None and mule_id() != 0:
            return False
        spooler = getattr(uwsgi, "i_am_the_spooler", None)
        return not (spooler is not None and spooler())
    except Exception:  # an odd uwsgi module: behave as outside uWSGI
        return False
