"""User code's sys.stdout / sys.stderr, forwarded to the parent as OUTPUT frames.

Writes travel on the protocol connection, so output printed by a call reaches the
parent before that call's result. Writes straight to fd 1 (C code, child processes)
land on fd 2, which the parent reads as the child's stderr.
"""
from pyfleet_core import compat, wire

STDOUT = 1
STDERR = 2

# Lines are forwarded as they complete; a partial line waits until it is this big.
FLUSH_SIZE = 8192


class Output(object):
    """One buffer shared by both streams keeps their relative order."""

    def __init__(self, conn, dst):
        self.conn = conn
        self.dst = dst
        self.stream = STDOUT
        self.parts = []
        self.size = 0
        self.lock = compat.allocate_lock()

    def write(self, stream, data):
        data = compat.to_bytes(data)
        self.lock.acquire()
        try:
            if self.parts and stream != self.stream:
                self._send()
            self.stream = stream
            self.parts.append(data)
            self.size += len(data)
            if b'\n' in data or self.size >= FLUSH_SIZE:
                self._send()
        finally:
            self.lock.release()

    def flush(self):
        if self.parts:
            self.lock.acquire()
            try:
                self._send()
            finally:
                self.lock.release()

    def _send(self):
        data = b''.join(self.parts)
        self.parts = []
        self.size = 0
        if data:
            try:
                self.conn.send_value(self.dst, wire.OUTPUT, (self.stream, data))
            except Exception:
                pass  # the parent is gone; nobody is left to read it


class TextStream(object):
    """A file-like stand-in for sys.stdout / sys.stderr."""

    encoding = 'utf-8'
    errors = 'replace'
    closed = False
    softspace = 0  # Python 2's print statement reads and writes this

    def __init__(self, output, stream, fd):
        self._output = output
        self._stream = stream
        self._fd = fd
        # Python 3 code writes bytes to `.buffer`; write() takes both.
        self.buffer = self

    def write(self, data):
        self._output.write(self._stream, data)
        return len(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        self._output.flush()

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False


def install(conn, dst):
    """Point sys.stdout and sys.stderr at the parent; returns the shared Output."""
    import sys
    output = Output(conn, dst)
    sys.stdout = TextStream(output, STDOUT, 1)
    sys.stderr = TextStream(output, STDERR, 2)
    return output
