"""Quicker interpreter-lock handoffs while a sync delivers.

A run has threads that mostly wait on C code (the commit thread on DuckDB, the
senders on sockets) beside a main thread that mostly runs Python (reading,
encoding and cutting records). Each time a waiting thread comes back from C it
needs the interpreter lock, and by default gets it only after the busy thread
has run for the switch interval (5 ms): the commit thread makes several calls
into DuckDB per transaction and spent much of its time waiting so. While any
delivery runs the interval is shorter; the one the process had is restored when
the last one ends (runs may overlap in threads of one process).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: seconds a busy thread runs before a waiting one may take the lock
DELIVERY_SWITCH_INTERVAL = 0.0005

_lock = threading.Lock()
_users = 0
_before = 0.0


@contextmanager
def quick_handoffs(interval: float = DELIVERY_SWITCH_INTERVAL) -> Iterator[None]:
    global _users, _before
    with _lock:
        if _users == 0:
            _before = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, _before))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                sys.setswitchinterval(_before)
