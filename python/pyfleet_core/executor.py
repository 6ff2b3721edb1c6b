# pyfleet-core: on-demand
"""Run calls on N threads at once instead of one at a time on the main thread.

The parent installs this after start-up (Context::set_executor). The main thread
keeps reading the connection and queues each CALL; N worker threads take them in
arrival order and run them concurrently, so results come back in any order (the
parent matches them by reply handle). Only the main thread ever reads the stream:
a frame a worker waits for (the reply to its request for a module, a value on a
channel it receives from, credit for a channel it sends on) is read by the main
thread and handed over in a mailbox.
"""
import sys
import threading

from pyfleet_core import compat, load, wire

_get_ident = compat._thread.get_ident


class Executor(object):
    """Owns the CALL handle once installed; patches the connection's waits."""

    def __init__(self, router, calls, threads):
        self.router = router
        self.conn = conn = router.conn
        self.calls = calls
        self.threads = threads
        self.main = _get_ident()
        self.cond = threading.Condition()
        self.jobs = []
        self.mail = {}
        self.replies = set()
        self.channels = load('channels')
        self._wait = conn.wait
        self._pump = conn.pump
        self._new_handle = conn.new_handle
        conn.wait = self.wait
        conn.pump = self.pump
        conn.new_handle = self.new_handle
        credit = router.handlers[wire.CREDIT][0]

        def on_credit(header, body):
            credit(header, body)
            self._notify()
        router.add_handler(wire.CREDIT, on_credit, immediate=True)
        for _ in range(threads):
            worker = threading.Thread(target=self.work, name='pyfleet-call')
            worker.daemon = True
            worker.start()

    def _notify(self):
        self.cond.acquire()
        try:
            self.cond.notify_all()
        finally:
            self.cond.release()

    def on_call(self, header, body):
        """Main thread: queue the call; open mailboxes for channels it receives
        from now, before the stream can deliver their first frame."""
        body = bytes(body)
        handles = []
        if header[2] & wire.FLAG_CHANNELS:
            try:
                self._receivers(wire.loads(body), handles)
            except Exception:
                pass  # the worker decodes it again and reports the error
        for handle in handles:
            self.router.add_handler(handle, self.deliver)
        self.cond.acquire()
        try:
            self.jobs.append((header, body, handles))
            self.cond.notify_all()
        finally:
            self.cond.release()

    def _receivers(self, value, handles):
        if isinstance(value, tuple) and len(value) == 3 and value[0] == self.channels.RECEIVER:
            handles.append(value[1])
        elif isinstance(value, (list, tuple)):
            for item in value:
                self._receivers(item, handles)
        elif isinstance(value, dict):
            for item in value.values():
                self._receivers(item, handles)

    def deliver(self, header, body):
        """Main thread: a frame for a handle a worker waits (or will wait) on."""
        self.cond.acquire()
        try:
            self.mail.setdefault(header[6], []).append((header, bytes(body)))
            self.cond.notify_all()
        finally:
            self.cond.release()

    def work(self):
        while True:
            self.cond.acquire()
            try:
                while not self.jobs:
                    self.cond.wait()
                header, body, handles = self.jobs.pop(0)
            finally:
                self.cond.release()
            try:
                self.calls.on_call(header, body)
            except Exception:
                load('router').log('call failed in a worker thread: %r' % (sys.exc_info()[1],))
            for handle in handles:
                self._forget(handle)

    def _forget(self, handle):
        self.router.handlers.pop(handle, None)
        self.cond.acquire()
        try:
            self.mail.pop(handle, None)
            self.replies.discard(handle)
        finally:
            self.cond.release()

    def new_handle(self):
        self.cond.acquire()
        try:
            handle = self._new_handle()
            if _get_ident() != self.main:
                # A worker's request: its reply must find a mailbox however soon
                # it arrives.
                self.replies.add(handle)
                self.router.add_handler(handle, self.deliver)
            return handle
        finally:
            self.cond.release()

    def wait(self, handle, timeout=None):
        if _get_ident() == self.main:
            return self._wait(handle, timeout)
        if handle not in self.router.handlers:
            self.router.add_handler(handle, self.deliver)
        found = []
        self.pump(done=lambda: self._take(handle, found), timeout=timeout)
        if found and handle in self.replies:
            self._forget(handle)
        return found[0] if found else None

    def _take(self, handle, found):
        box = self.mail.get(handle)
        if box:
            found.append(box.pop(0))
            return True
        return False

    def pump(self, take=None, done=None, timeout=None):
        """Off the main thread: wait until done() holds (the main thread reads
        and notifies); False on timeout."""
        if _get_ident() == self.main:
            return self._pump(take, done, timeout)
        deadline = None if timeout is None else wire.time.time() + timeout
        self.cond.acquire()
        try:
            while not done():
                if deadline is None:
                    self.cond.wait()
                else:
                    remaining = deadline - wire.time.time()
                    if remaining <= 0:
                        return False
                    self.cond.wait(remaining)
            return True
        finally:
            self.cond.release()


def install(threads):
    """Run calls on `threads` worker threads from the next call on (0: serial,
    the default). Returns the number of threads; a second, different choice is
    refused."""
    threads = int(threads)
    if threads < 0:
        raise ValueError('a number of threads cannot be negative (%d)' % threads)
    router = sys.modules['pyfleet_core'].router
    current = router.handlers[wire.CALL][0]
    executor = getattr(current, '__self__', None)
    if isinstance(executor, Executor):
        if executor.threads != threads:
            raise ValueError('this context already runs calls on %d threads; the executor '
                             'is chosen once' % executor.threads)
        return threads
    if threads == 0:
        return 0  # serial: already so
    router.add_handler(wire.CALL, Executor(router, executor, threads).on_call)
    return threads


def threads():
    """The number of call threads, 0 for the serial executor."""
    current = sys.modules['pyfleet_core'].router.handlers[wire.CALL][0]
    executor = getattr(current, '__self__', None)
    return executor.threads if isinstance(executor, Executor) else 0
