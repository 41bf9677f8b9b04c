"""Graceful stop of a run: SIGTERM or Ctrl-C (SIGINT) asks the run to stop.

The first signal sets a ``Stop`` the engine watches: no new batch is sent, the
batches in flight finish (a batch still waiting for its first request, or for a
retry, is abandoned: not sent again and not committed), every confirmed
outcome is committed, the run is recorded ``interrupted``, the lock is
released, and ``activations run`` exits with code 6. A second signal stops at
once (``KeyboardInterrupt``): the run is recorded failed and the lock released;
the write-ahead makes the next run resend whatever was on its way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType


class Stop(threading.Event):
    """A stop request the engine polls between batches; ``reason`` says who asked."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = "stop requested"

    def request(self, reason: str) -> None:
        self.reason = reason
        self.set()


class Interrupted(Exception):
    """A batch abandoned because the run was asked to stop (never retried)."""


@contextmanager
def stop_on_signals(
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> Iterator[Stop]:
    """While inside, the first of ``signals`` sets the yielded ``Stop``; a second one
    raises ``KeyboardInterrupt``. Handlers are restored on the way out. Outside the
    main thread (where Python cannot install handlers) the ``Stop`` is only set by
    hand."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} again: stopping at once")
        stop.request(f"stopped by {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, handle) for s in signals}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
