"""The main loop: read frames from the parent and hand them to their handlers."""
import sys


class Router(object):
    """Maps handles to handlers for frames that arrive from the parent."""

    def __init__(self, conn):
        self.conn = conn
        self.handlers = {}
        # Only the master may ask this context to run code; everything else that
        # arrives on a CALL-like handle is dropped and counted.
        self.trusted_sources = (0,)
        self.dropped = 0

    def add_handler(self, handle, handler, trusted_only=True, immediate=False):
        """`immediate` handlers also run while a call waits for frames (pump)."""
        self.handlers[handle] = (handler, trusted_only)
        if immediate:
            self.conn.immediate[handle] = handler

    def serve(self):
        """Dispatch frames until the parent closes the stream."""
        read_frame = self.conn.read_frame
        handlers = self.handlers
        trusted = self.trusted_sources
        while True:
            frame = read_frame()
            if frame is None:
                return
            header, body = frame
            entry = handlers.get(header[6])
            if entry is None or (entry[1] and header[4] not in trusted):
                self.dropped += 1
                continue
            try:
                entry[0](header, body)
            except Exception:
                # A failing handler must not take the context down with it.
                log('handler for handle %d failed: %r' % (header[6], sys.exc_info()[1]))


def log(message):
    """Last-resort diagnostics: stderr goes to the parent's log."""
    try:
        sys.__stderr__.write('pyfleet child: %s\n' % (message,))
        sys.__stderr__.flush()
    except Exception:
        pass

