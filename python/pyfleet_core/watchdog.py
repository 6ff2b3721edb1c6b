"""Exit when the parent goes away, even while a call is running.

The main loop notices end-of-stream only when it reads, which it does not do while
running a call. A thread polls the protocol fd for hang-up only: polling with no
input events means data arriving never wakes it, so it costs nothing per message.
"""
import os
import select
import time

from pyfleet_core import compat

try:
    # Already loaded at start-up on Python 3; the `signal` wrapper module imports
    # enum, functools and more (several ms) for nothing needed here.
    import _signal as signal
except ImportError:
    import signal  # Python 2: a small built-in module

# Linux reports a socket peer's shutdown(SHUT_WR) as POLLRDHUP; pipes report POLLHUP,
# which poll always returns whatever was asked.
POLLRDHUP = getattr(select, 'POLLRDHUP', 0x2000)

# An idle main loop sees end-of-stream itself and exits cleanly within this time.
IDLE_EXIT_GRACE = 1.0

# After SIGTERM, code that ignores it gets this long before a hard exit.
TERM_GRACE = 2.0


class State(object):
    """Shared with the main loop, which marks when it is running user code."""
    busy = False


def start(fd, state):
    compat.start_thread(_watch, (fd, state))


def _watch(fd, state):
    poller = select.poll()
    poller.register(fd, POLLRDHUP)
    while True:
        try:
            if poller.poll():
                break
        except (OSError, IOError, select.error) as exc:
            if exc.args and exc.args[0] == 4:  # EINTR
                continue
            return
    if not state.busy:
        time.sleep(IDLE_EXIT_GRACE)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(TERM_GRACE)
    os._exit(1)
