# pyfleet-core: on-demand
"""Fork this context into a new one that shares everything already imported.

The master asks with a CALL from its main loop, so the fork happens between calls,
on the main thread, with no call of this context running: the only other threads
are the core's own (the watchdog, blocked in poll(), and one reaper per earlier
fork, blocked in waitpid()), which hold no lock the copy could need. A context
with any other thread is refused: fork copies only the calling thread, and a lock
another thread held would stay locked forever in the copy.

The copy reaches the master over a unix socket the master listens on (an
abstract address, so local contexts only). This side connects and sends the
master's one-time token before forking; the copy keeps that socket as its
connection, closes the parent's pipes, and builds a fresh core on it: connection,
output, watchdog, router, call handler, channel table. This side reaps the copy
and reports its exit status to the master (FORK_EXIT).
"""
import os
import socket
import sys
import time

from pyfleet_core import compat, load, wire

# Child -> master: (pid, wait status) of a forked context that has exited.
FORK_EXIT = 11

# Threads of this process that are the core's own: the main thread, the watchdog.
CORE_THREADS = 2

# How long a thread count above the core's own may take to settle (a reaper
# thread that just reported an exit) before fork is refused.
SETTLE = 0.2

_reapers = [0]


class ForkError(Exception):
    """This context cannot be forked now (the message says why)."""


def _threads():
    try:
        return len(os.listdir('/proc/self/task'))
    except OSError:
        return None


def check():
    """Raise ForkError unless this context can fork now."""
    if not hasattr(os, 'fork'):
        raise ForkError('fork is not available on %s' % sys.platform)
    router = sys.modules['pyfleet_core'].router
    handler = router.handlers[wire.CALL][0]
    executor = getattr(handler, '__self__', None)
    if getattr(executor, 'threads', 0):
        raise ForkError('this context runs calls on %d threads; fork needs the serial '
                        'executor' % executor.threads)
    count = _threads()
    expected = CORE_THREADS + _reapers[0]
    # A reaper that has reported its copy's exit is gone a moment later.
    deadline = time.time() + SETTLE
    while count is not None and count > expected and time.time() < deadline:
        time.sleep(0.001)
        count = _threads()
        expected = CORE_THREADS + _reapers[0]
    if count is not None and count > expected:
        raise ForkError(
            'this context has %d thread(s) besides the core\'s own; fork copies only the '
            'calling thread, and a lock another thread holds would stay locked in the copy '
            'forever. Fork before starting threads, or stop them first' % (count - expected))


def fork(address, token, context_id):
    """Fork a copy that becomes context `context_id`, connected to the master at
    `address` (authenticated with `token`). Returns {'pid': the copy's pid}."""
    check()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(compat.native(address))
        sock.sendall(compat.to_bytes(token))
    except socket.error as exc:
        sock.close()
        raise ForkError('cannot reach the master at its fork socket: %s' % (exc,))
    fd = os.dup(sock.fileno())
    sock.close()
    load('output')  # what the copy needs, compiled once here rather than per copy
    load('watchdog')
    pid = os.fork()
    if pid == 0:
        try:
            _become(fd, context_id)
        except BaseException:
            load('router').log('forked context %d failed: %r' % (context_id, sys.exc_info()[1]))
        os._exit(1)
    os.close(fd)
    conn = sys.modules['pyfleet_core'].connection
    _reapers[0] += 1
    compat.start_thread(_reap, (pid, conn))
    return {'pid': pid}


def _reap(pid, conn):
    while True:
        try:
            status = os.waitpid(pid, 0)[1]
            break
        except OSError as exc:
            if exc.errno != 4:  # EINTR (Python 2); ECHILD: reaped by user code
                status = None
                break
    _reapers[0] -= 1
    if status is not None:
        try:
            conn.send_value(conn.parent_id, FORK_EXIT, (pid, status))
        except Exception:
            pass  # this context is going away too


def _become(fd, context_id):
    """In the copy: a fresh core on `fd`; serve until the master closes it."""
    package = sys.modules['pyfleet_core']
    old = package.connection
    for stale in (old.rfd, old.wfd):
        try:
            os.close(stale)
        except OSError:
            pass
    _reapers[0] = 0
    compat.set_cloexec(fd)
    wfd = os.dup(fd)
    compat.set_cloexec(wfd)
    conn = wire.Connection(fd, wfd, old.max_message_size)
    conn.context_id = context_id
    conn.parent_id = old.parent_id
    package.connection = conn
    output = load('output').install(conn, conn.parent_id)
    watchdog = load('watchdog')
    state = watchdog.State()
    watchdog.start(fd, state)
    router = load('router').Router(conn)
    package.router = router
    router.add_handler(wire.CALL, load('calls').Calls(conn, output, state).on_call)
    channels = sys.modules.get('pyfleet_core.channels')
    if channels is not None:
        channels._senders.clear()
        router.add_handler(wire.CREDIT, channels._on_credit, immediate=True)
    router.serve()
    output.flush()
    os._exit(0)
