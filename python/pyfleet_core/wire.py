"""Frames on the connection to the parent.

A frame is a 28-byte little-endian header followed by a body. The layout is shared
with the Rust side (crates/pyfleet/src/wire/header.rs); change both together.
VALUE bodies are `marshal` data written with version 2, the newest format Python 2.7
can read, so the same bytes load on every supported interpreter.
"""
import marshal
import os
import select
import struct
import time

from pyfleet_core import compat

HEADER = struct.Struct('<HBBIIIIII')
HEADER_LEN = HEADER.size
MAGIC = 0x4650

RAW = 0
VALUE = 1
CONTROL = 3

FLAG_ERROR = 1
# The last frame of a stream or channel (its body is None, or an error report).
FLAG_END = 2
# A chunk of a value too large for one frame; the next frame continues it.
FLAG_MORE = 4
# A CALL whose arguments hold channel ends, to be bound before the call runs.
FLAG_CHANNELS = 8

# Well-known handles; dynamic reply handles are allocated by the parent from 1024 up.
CALL = 1
HELLO = 2
OUTPUT = 3
BOOT_CONFIG = 4
LOAD_CORE = 5
GET_MODULE = 6
GET_DATA = 7
LOG = 8
CREDIT = 9

# Requests this side makes number their replies from here up.
FIRST_DYNAMIC = 1024

MARSHAL_VERSION = 2

# Reads ask for this much so that many small frames cost one syscall.
READ_SIZE = 65536

# Bytes results at least this large skip marshal.dumps: the 's' prefix is written by
# hand and the object itself goes to writev, saving a copy of the payload.
LARGE_BYTES = 65536

# Bodies that do not fit the read buffer are read into one reused buffer of up to
# this size: memory already touched is far cheaper to fill than fresh pages.
KEEP_RECEIVE_BUFFER = 64 << 20

_readv = getattr(os, 'readv', None)
_writev = getattr(os, 'writev', None)


class ProtocolError(Exception):
    """The parent sent something that is not a valid frame."""


class MessageTooLarge(Exception):
    """A message would exceed the maximum message size agreed with the parent."""


class RequestFailed(Exception):
    """The parent answered a request with an error: (type name, message, detail)."""


class Connection(object):
    """The framed byte stream to the parent: one reader (the main loop), many writers."""

    def __init__(self, rfd, wfd, max_message_size):
        self.rfd = rfd
        self.wfd = wfd
        self.max_message_size = max_message_size
        self.context_id = 0
        self.parent_id = 0
        self._buf = b''
        self._write_lock = compat.allocate_lock()
        self._backlog = []
        self._next_reply = FIRST_DYNAMIC
        self._receive_buffer = None
        # Handle -> function(header, body) for frames that must take effect even
        # while a call waits inside pump() (flow-control credit).
        self.immediate = {}

    def read_frame(self):
        """Return (header tuple, body) or None at end of stream. Frames that
        arrived while a request waited for its answer come first, in order.
        A large body may be a view of a reused buffer: decode it before the next
        read."""
        if self._backlog:
            return self._backlog.pop(0)
        return self._read_new_frame()

    def new_handle(self):
        """A handle for replies or a stream, unique in this context."""
        handle = self._next_reply
        self._next_reply += 1
        return handle

    def request(self, handle, obj):
        """Send `obj` to the parent's `handle` and wait for its answer."""
        reply_to = self.new_handle()
        self.send_value(self.parent_id, handle, obj, reply_to=reply_to)
        header, body = self.wait(reply_to)
        value = loads(body)
        if header[2] & FLAG_ERROR:
            raise RequestFailed(*value)
        return value

    def wait(self, handle, timeout=None):
        """The next frame for `handle`, or None after `timeout` seconds."""
        for index, frame in enumerate(self._backlog):
            if frame[0][6] == handle:
                return self._backlog.pop(index)
        found = []
        self.pump(take=lambda frame: frame[0][6] == handle and not found.append(frame),
                  timeout=timeout)
        return found[0] if found else None

    def pump(self, take=None, done=None, timeout=None):
        """Read frames while a call runs (on the main thread, which owns the
        stream) until take(frame) claims one or done() holds; False on timeout.
        Immediate frames (credit) take effect at once; all others wait in the
        backlog, in order, for the main loop."""
        deadline = None if timeout is None else time.time() + timeout
        while done is None or not done():
            if deadline is not None and not self._buf_has_frame():
                remaining = deadline - time.time()
                if remaining <= 0 or not select.select([self.rfd], [], [], remaining)[0]:
                    return False
            frame = self._read_new_frame()
            if frame is None:
                raise ProtocolError('the parent closed the connection')
            if take is not None and take(frame):
                return True
            action = self.immediate.get(frame[0][6])
            if action is not None:
                action(*frame)
            else:
                self._backlog.append((frame[0], bytes(frame[1])))
        return True

    def _buf_has_frame(self):
        buf = self._buf
        return len(buf) >= HEADER_LEN and len(buf) >= HEADER_LEN + HEADER.unpack_from(buf, 0)[8]

    def _read_new_frame(self):
        buf = self._buf
        while len(buf) < HEADER_LEN:
            chunk = _read(self.rfd, READ_SIZE)
            if not chunk:
                if buf:
                    raise ProtocolError('stream ended inside a frame header')
                return None
            buf += chunk
        header = HEADER.unpack_from(buf, 0)
        if header[0] != MAGIC:
            raise ProtocolError('bad frame magic %r' % (buf[:2],))
        size = header[8]
        if size > self.max_message_size:
            raise ProtocolError('frame of %d bytes exceeds the maximum message size %d'
                                % (size, self.max_message_size))
        end = HEADER_LEN + size
        if len(buf) >= end:
            self._buf = buf[end:]
            return header, buf[HEADER_LEN:end]
        self._buf = b''
        return header, self._read_rest(buf[HEADER_LEN:], size)

    def _read_rest(self, have, size):
        """Read a body that did not fit the buffer, straight into its final place."""
        if _readv is None:
            parts = [have]
            missing = size - len(have)
            while missing:
                chunk = os.read(self.rfd, min(missing, 1 << 20))
                if not chunk:
                    raise ProtocolError('stream ended inside a frame body')
                parts.append(chunk)
                missing -= len(chunk)
            return b''.join(parts)
        buf = self._receive_buffer
        if buf is None or len(buf) < size:
            buf = bytearray(size)
            if size <= KEEP_RECEIVE_BUFFER:
                self._receive_buffer = buf
        view = memoryview(buf)[:size]
        pos = len(have)
        view[:pos] = have
        while pos < size:
            got = _readv(self.rfd, [view[pos:]])
            if not got:
                raise ProtocolError('stream ended inside a frame body')
            pos += got
        return view

    def send(self, dst, handle, body, encoding=VALUE, flags=0, reply_to=0):
        """Send one frame; `body` is bytes or a list of byte strings."""
        if isinstance(body, list):
            size = sum(len(part) for part in body)
        else:
            size = len(body)
            body = [body]
        if size > self.max_message_size:
            raise MessageTooLarge(size, self.max_message_size)
        header = HEADER.pack(MAGIC, encoding, flags, dst, self.context_id,
                             self.context_id, handle, reply_to, size)
        self._write_lock.acquire()
        try:
            self._write_all([header] + body)
        finally:
            self._write_lock.release()

    def send_value(self, dst, handle, obj, flags=0, reply_to=0):
        """Send `obj` as a VALUE frame; raises ValueError if marshal cannot encode it."""
        if type(obj) is bytes and len(obj) >= LARGE_BYTES:
            body = [b's' + struct.pack('<i', len(obj)), obj]
        else:
            body = marshal.dumps(obj, MARSHAL_VERSION)
        self.send(dst, handle, body, VALUE, flags, reply_to)

    def _write_all(self, parts):
        fd = self.wfd
        if _writev is None or len(parts) == 1:
            for part in parts:
                while part:
                    part = part[os.write(fd, part):]
            return
        while parts:
            written = _writev(fd, parts)
            while parts and written >= len(parts[0]):
                written -= len(parts[0])
                parts.pop(0)
            if written:
                parts[0] = memoryview(parts[0])[written:]


def _read(fd, size):
    """os.read, with a hung-up terminal (EIO, as under su) read as end of stream."""
    try:
        return os.read(fd, size)
    except OSError as exc:
        if exc.errno == 5:
            return b''
        raise


def loads(body):
    """Decode a VALUE body (bytes or bytearray)."""
    if compat.PY2 and not isinstance(body, bytes):
        body = bytes(body)
    return marshal.loads(body)
