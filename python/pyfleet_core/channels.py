# pyfleet-core: on-demand
"""Channels between this child and its parent, and calls whose result is a stream.

A channel is a handle plus a window of credit: the sending side may have at most
`window` frames in flight; the receiving side gives credit back (CREDIT frames)
as it consumes. So neither side can be flooded, whatever the speeds. A value too
large for one frame travels as chunks (FLAG_MORE on all but the last). Closing
sends a frame with FLAG_END; a failure sends FLAG_END | FLAG_ERROR and a report.

Channel ends arrive as call arguments: the parent marks such calls with
FLAG_CHANNELS and writes each end as a tuple (marker, handle, window). The ends a
call received are closed when it returns.
"""
import marshal
import sys

from pyfleet_core import compat, wire

SENDER = u'\x00pyfleet:sender'
RECEIVER = u'\x00pyfleet:receiver'

# Values are cut into chunks of this size: small enough that a window of frames
# in flight stays a bounded amount of memory, large enough to move bulk quickly.
CHUNK = 1 << 20

# Credit given back once this fraction of the window has been consumed.
CREDIT_FRACTION = 2


class ChannelClosed(Exception):
    """The channel has ended (receiving after the end, or sending after close)."""


class ChannelTimeout(Exception):
    """Nothing arrived within the time given to recv()."""


class ChannelError(Exception):
    """The other side ended the channel with an error: (type, message, traceback)."""


_senders = {}


def _on_credit(header, body):
    handle, count = wire.loads(body)
    sender = _senders.get(handle)
    if sender is not None:
        if count < 0:
            sender.cancelled = True  # the receiving end is gone
        else:
            sender.credit += count


def _connection():
    return sys.modules['pyfleet_core'].connection


def _chunks(value):
    """The marshal encoding of `value` in pieces of at most CHUNK bytes; a large
    bytes value is cut from the object itself, without a copy of it."""
    if type(value) is bytes and len(value) >= wire.LARGE_BYTES:
        head = b's' + wire.struct.pack('<i', len(value))
        view = memoryview(value) if not compat.PY2 else value
        first = CHUNK - len(head)
        yield head + bytes(view[:first])
        for start in range(first, len(value), CHUNK):
            yield view[start:start + CHUNK]
        return
    data = marshal.dumps(value, wire.MARSHAL_VERSION)
    for start in range(0, max(len(data), 1), CHUNK):
        yield data[start:start + CHUNK]


class Sender(object):
    """Sends values to the other end: send(value), close(); a context manager."""

    def __init__(self, dst, handle, window):
        self.conn = _connection()
        self.dst = dst
        self.handle = handle
        self.credit = window
        self.closed = False
        self.cancelled = False
        _senders[handle] = self

    def send(self, value):
        if self.closed:
            raise ChannelClosed('send on a closed channel (handle %d)' % self.handle)
        if type(value) is not bytes or len(value) < wire.LARGE_BYTES:
            # The common case, one frame: no generator, no slicing.
            data = marshal.dumps(value, wire.MARSHAL_VERSION)
            if len(data) <= CHUNK:
                self._send_chunk(data, 0)
                return
        elif len(value) <= CHUNK - 5:
            # Bulk bytes in one frame: the marshal header by hand, the object
            # itself to writev, no copy of it.
            self._send_chunk([b's' + wire.struct.pack('<i', len(value)), value], 0)
            return
        pending = None
        for chunk in _chunks(value):
            if pending is not None:
                self._send_chunk(pending, wire.FLAG_MORE)
            pending = chunk
        self._send_chunk(pending, 0)

    def _send_chunk(self, chunk, flags):
        if self.credit <= 0 or self.cancelled:
            self._wait_for_credit()
        self.credit -= 1
        self.conn.send(self.dst, self.handle, chunk, wire.VALUE, flags)

    def _wait_for_credit(self):
        if not self.cancelled:
            self.conn.pump(done=lambda: self.credit > 0 or self.cancelled)
        if self.cancelled:
            self.closed = True
            _senders.pop(self.handle, None)
            raise ChannelClosed('the receiving end of channel %d was closed' % self.handle)

    def close(self, error=None):
        """End the channel; with `error` (an exc_info), the end says why."""
        if self.closed:
            return
        self.closed = True
        _senders.pop(self.handle, None)
        if error is None:
            self.conn.send_value(self.dst, self.handle, None, flags=wire.FLAG_END)
        else:
            from pyfleet_core import load
            report = load('errors').describe(error)
            self.conn.send_value(self.dst, self.handle, report,
                                 flags=wire.FLAG_END | wire.FLAG_ERROR)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close(exc_info if exc_info[0] is not None else None)


class Receiver(object):
    """Receives what the other end sends: iterate it, or recv(timeout)."""

    def __init__(self, src, handle, window):
        self.conn = _connection()
        self.src = src
        self.handle = handle
        self.window = window
        self.consumed = 0
        self.ended = False

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.recv()
        except ChannelClosed:
            raise StopIteration

    next = __next__  # Python 2

    def recv(self, timeout=None):
        """The next value. Raises ChannelClosed at the end, ChannelTimeout when
        nothing arrives within `timeout` seconds, ChannelError if the sender
        failed."""
        if self.ended:
            raise ChannelClosed('the channel has ended (handle %d)' % self.handle)
        parts = []
        while True:
            frame = self.conn.wait(self.handle, timeout)
            if frame is None:
                raise ChannelTimeout('nothing received within %s s' % timeout)
            header, body = frame
            self._consumed_one()
            flags = header[2]
            if flags & wire.FLAG_END:
                self.ended = True
                if flags & wire.FLAG_ERROR:
                    raise ChannelError(*wire.loads(body))
                raise ChannelClosed('the channel has ended (handle %d)' % self.handle)
            parts.append(bytes(body))
            if not flags & wire.FLAG_MORE:
                return wire.loads(b''.join(parts))

    def _consumed_one(self):
        self.consumed += 1
        if self.consumed >= max(self.window // CREDIT_FRACTION, 1):
            self.conn.send_value(self.src, wire.CREDIT, (self.handle, self.consumed))
            self.consumed = 0


def bind(parent, value, ends):
    """`value` with channel-end markers replaced by Sender/Receiver objects."""
    if isinstance(value, tuple) and len(value) == 3 and value[0] in (SENDER, RECEIVER):
        end = (Sender if value[0] == SENDER else Receiver)(parent, value[1], value[2])
        ends.append(end)
        return end
    if isinstance(value, (list, tuple)):
        items = [bind(parent, item, ends) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return dict((key, bind(parent, item, ends)) for key, item in value.items())
    return value


def _close_ends(ends, error=None):
    """The ends a call received end with it: senders send their end; for
    receivers, the parent is told to stop sending (credit -1)."""
    for end in ends:
        if isinstance(end, Sender):
            end.close(error)
        elif not end.ended:
            end.ended = True
            end.conn.send_value(end.src, wire.CREDIT, (end.handle, -1))


def run_call(calls, header, call):
    """A CALL with channel ends in its arguments and/or options (a streamed
    result): (module, function, args, kwargs[, options])."""
    src, reply_to = header[4], header[7]
    module, function, args, kwargs = call[:4]
    options = call[4] if len(call) > 4 else {}
    ends = []
    stream = None
    if options.get('stream'):
        stream = Sender(src, options['stream'], options.get('window', 16))
    try:
        if header[2] & wire.FLAG_CHANNELS:
            args = bind(src, args, ends)
            kwargs = bind(src, kwargs, ends)
        calls.state.busy = True
        from pyfleet_core.calls import resolve
        result = resolve(module, function)(*args, **kwargs)
        if stream is not None:
            for item in result:
                stream.send(item)
    except BaseException:
        calls.state.busy = False
        calls.output.flush()
        _close_ends(ends, sys.exc_info())
        if stream is not None:
            stream.close(sys.exc_info())
        else:
            calls.fail(src, reply_to, sys.exc_info())
        return
    calls.state.busy = False
    calls.output.flush()
    _close_ends(ends)
    if stream is not None:
        stream.close()
    elif reply_to:
        calls.reply(src, reply_to, result)


# Credit for this child's senders arrives on CREDIT, also while a call waits.
sys.modules['pyfleet_core'].router.add_handler(wire.CREDIT, _on_credit, immediate=True)
