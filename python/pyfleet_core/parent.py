# pyfleet-core: on-demand
"""This context as a parent: it starts contexts one hop further and routes their
frames, as the master does for its own children.

The master asks a context to become a hop by calling install() once; from then
on a thread reads the stream from the parent ("down"): frames for this context
go on to the main loop through an internal pipe (which replaces the protocol fd
the main loop reads, so nothing else in the core changes), frames for contexts
behind it go to the link of the child they are behind, and HOP control messages
from the master (connect, route, start, stop) are handled at once, even while
this context runs a long call.

Ids: the master allocates every context id and tells each hop on the path
("route" messages); a hop never makes up ids. A hop knows, per child link, which
ids live behind it, and drops (and reports to the master) any frame from a child
whose source id is not one of them, any frame a child addresses to this hop, and
any frame to a sibling: a child can neither make its parent run code nor reach
its siblings. Everything else from a child goes up, except module requests
(GET_MODULE, LOAD_CORE, GET_DATA), which the hop answers from its own cache, so a
module is fetched once per hop however many contexts behind it import it.

A hop's launch plan (crates/pyfleet/src/router/hop_plan.rs) arrives as data and is
executed here as the master executes it: the program started with pipes and, for
methods that prompt, a pseudo-terminal (controlling terminal, or raw stdin for
su); prompts answered by the same rules (prompts.py); the payload and boot
configuration written; markers followed to HELLO. The password travels in its
own message and is forgotten once typed.
"""
import errno
import marshal
import os
import select
import struct
import sys
import time
import zlib

from pyfleet_core import compat, wire

# The control handle: master -> hop requests, hop -> master notices.
HOP = 10

# Requests a hop answers for the contexts behind it instead of routing them up.
SERVED = (wire.LOAD_CORE, wire.GET_MODULE, wire.GET_DATA)

READ_SIZE = 65536
# Output tolerated before a marker (login banners, a noisy sitecustomize).
MAX_PRELUDE = 1 << 20
# After a failed start, how long to wait for the program to end and say why.
FAILURE_SETTLE = 0.5
# After the data stream ended, how long to wait for more terminal output.
FINAL_WORDS = 0.2
# Nobody holds the terminal this moment (EIO): try again after this pause.
EIO_RETRY = 0.02
# How much of a child's stderr is kept for error messages.
STDERR_TAIL = 8192
# How long an ended child's process gets to exit before it is killed.
EXIT_WAIT = 2.0
# Reply handles of this hop's own requests: far above the main loop's.
FIRST_HOP_REPLY = 1 << 30

_hop = None


def install(payload):
    """Make this context a hop; `payload` is the core bootstrap payload its
    children read. Returns this process's id. Called once, by the master."""
    global _hop
    if _hop is None:
        from pyfleet_core import load
        # Compiled now, on the main thread, not later on a routing thread.
        load('importer')
        load('prompts')
        import subprocess  # noqa: F401
        _hop = Hop(sys.modules['pyfleet_core'].connection, bytes(payload))
        _hop.start()
    return os.getpid()


class Failure(Exception):
    """A child did not start: (kind, details dict) for the master."""


class Queue(object):
    """A FIFO for one consumer thread, from `_thread` locks only (`threading`
    costs milliseconds to import). `ready` is unlocked exactly while items wait."""

    def __init__(self):
        self.items = []
        self.lock = compat.allocate_lock()
        self.ready = compat.allocate_lock()
        self.ready.acquire()

    def put(self, item):
        with self.lock:
            self.items.append(item)
            if len(self.items) == 1:
                self.ready.release()

    def get(self):
        self.ready.acquire()
        with self.lock:
            item = self.items.pop(0)
            if self.items:
                self.ready.release()
        return item


def readable(fds, timeout):
    """The fds of `fds` ready to read within `timeout` seconds (None: no limit)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    wait = None if timeout is None else max(int(timeout * 1000), 0)
    while True:
        try:
            return [fd for fd, _ in poller.poll(wait)]
        except (OSError, IOError, select.error) as exc:
            if exc.args and exc.args[0] == errno.EINTR:
                continue
            raise


def write_all(fd, data):
    if compat.PY2:
        while data:
            data = data[os.write(fd, data):]
        return
    view = memoryview(data)
    while len(view):
        view = view[os.write(fd, view):]


class Stream(object):
    """Frames (and, during a start, markers) read from one fd; frames are
    returned whole, header included, for routing them on unchanged."""

    def __init__(self, fd, limit, buf=b''):
        self.fd = fd
        self.limit = limit
        self.buf = buf

    def _more(self, deadline):
        if deadline is not None:
            remaining = deadline - time.time()
            if remaining <= 0 or not readable([self.fd], remaining):
                raise Failure('timeout', {})
        return wire._read(self.fd, READ_SIZE)

    def skip_until(self, marker, deadline):
        """Read past `marker`; what came before it is returned."""
        while True:
            at = self.buf.find(marker)
            if at >= 0:
                skipped = self.buf[:at]
                self.buf = self.buf[at + len(marker):]
                return skipped
            if len(self.buf) > MAX_PRELUDE:
                raise Failure('too_much', {'output': self.buf[:2000]})
            chunk = self._more(deadline)
            if not chunk:
                raise Failure('eof', {'output': self.buf[-2000:]})
            self.buf += chunk

    def frame(self, deadline=None):
        """(header, frame bytes), or None at the end of the stream."""
        buf = self.buf
        while len(buf) < wire.HEADER_LEN:
            chunk = self._more(deadline)
            if not chunk:
                if buf:
                    raise wire.ProtocolError('stream ended inside a frame header')
                return None
            buf += chunk
        header = wire.HEADER.unpack_from(buf, 0)
        if header[0] != wire.MAGIC:
            raise wire.ProtocolError('bad frame magic %r' % (buf[:2],))
        if header[8] > self.limit:
            raise wire.ProtocolError('frame of %d bytes exceeds the maximum message size %d'
                                     % (header[8], self.limit))
        end = wire.HEADER_LEN + header[8]
        if len(buf) < end:
            parts = [buf]
            have = len(buf)
            self.buf = b''
            while have < end:
                chunk = self._more(deadline)
                if not chunk:
                    raise wire.ProtocolError('stream ended inside a frame body')
                parts.append(chunk)
                have += len(chunk)
            buf = b''.join(parts)
        self.buf = buf[end:]
        return header, buf[:end]


def frame(dst, src, handle, body, flags=0, reply_to=0):
    return wire.HEADER.pack(wire.MAGIC, wire.VALUE, flags, dst, src, src, handle,
                            reply_to, len(body)) + body


def request_text(body):
    """The string a child's request carries, parsed by hand from its marshal
    form: a hop never unmarshals what a child sends. None if it is not one."""
    data = bytes(body)
    if len(data) < 2:
        return None
    code = bytearray(data[:1])[0] & 0x7f
    if code in (0x7a, 0x5a):  # short ASCII: one length byte
        size = bytearray(data[1:2])[0]
        start = 2
    elif code in (0x75, 0x61, 0x41, 0x73, 0x74) and len(data) >= 5:
        size = struct.unpack('<i', data[1:5])[0]
        start = 5
    else:
        return None
    if size < 0 or size > 4096 or start + size != len(data):
        return None
    try:
        return compat.native(data[start:].decode('utf-8'))
    except UnicodeDecodeError:
        return None


def environment(rule):
    """The child's environment: this process's, filtered and edited by `rule`."""
    only = rule.get('only')
    if only is not None:
        only = set(compat.native(name) for name in only)
    keep_python = rule.get('keep_python_vars')
    env = {}
    for key, value in os.environ.items():
        if only is not None:
            if key not in only:
                continue
        elif not keep_python and key.startswith('PYTHON'):
            continue
        env[key] = value
    for key, value in rule.get('set') or ():
        env[compat.native(key)] = compat.native(value)
    for key in rule.get('unset') or ():
        env.pop(compat.native(key), None)
    return env


def make_raw(fd):
    """cfmakeraw(): frames cross the terminal unchanged."""
    import termios
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                  | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    attrs[1] &= ~termios.OPOST
    attrs[2] &= ~(termios.CSIZE | termios.PARENB)
    attrs[2] |= termios.CS8
    attrs[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG
                  | termios.IEXTEN)
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _preexec(terminal):
    """Run in the child between fork and exec: the signal state of a fresh
    process (Python ignores SIGPIPE, and a mask would be inherited), and the
    terminal as the controlling one."""
    import signal

    def preexec():
        for name in ('SIGPIPE', 'SIGXFSZ'):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        if hasattr(signal, 'pthread_sigmask'):
            signal.pthread_sigmask(signal.SIG_SETMASK, ())
        if terminal is not None:
            import fcntl
            import termios
            if compat.PY2:
                os.setsid()
            fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)
        if compat.PY2:
            # Python 2 creates inheritable fds, and its close_fds walks every
            # possible fd number: close what would leak, by listing.
            import fcntl
            for name in os.listdir('/proc/self/fd'):
                fd = int(name)
                if fd > 2:
                    try:
                        if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                            os.close(fd)
                    except (OSError, IOError):
                        pass
    return preexec


def _own(fd):
    """A private duplicate of `fd`, closed on exec."""
    copy = os.dup(fd)
    compat.set_cloexec(copy)
    return copy


class Child(object):
    """A started program: its process and the hop's ends of its streams."""

    def __init__(self, plan):
        import subprocess
        terminal = plan['terminal']
        self.tty = None
        self.keep = []
        stdin = stderr = subprocess.PIPE
        slave = None
        if terminal != 'none':
            self.tty, slave = os.openpty()
            compat.set_cloexec(self.tty)
            compat.set_cloexec(slave)
            if terminal == 'raw_stdin':
                make_raw(slave)
                stdin = stderr = slave
        options = {'close_fds': not compat.PY2}
        if not compat.PY2:
            options['start_new_session'] = slave is not None
        try:
            self.proc = subprocess.Popen(
                [compat.native(arg) for arg in plan['argv']], stdin=stdin,
                stdout=subprocess.PIPE, stderr=stderr, env=environment(plan['env']),
                cwd=plan.get('cwd'), preexec_fn=_preexec(slave), **options)
        except BaseException:
            for fd in (self.tty, slave):
                if fd is not None:
                    os.close(fd)
            raise
        self.pid = self.proc.pid
        self.from_child = _own(self.proc.stdout.fileno())
        self.proc.stdout.close()
        self.stderr = None
        if terminal == 'raw_stdin':
            os.close(slave)
            # Frames go to the terminal; closing it hangs up su and the child.
            self.to_child = self.tty
        else:
            self.to_child = _own(self.proc.stdin.fileno())
            self.proc.stdin.close()
            self.stderr = _own(self.proc.stderr.fileno())
            self.proc.stderr.close()
            if slave is not None:
                # With the slave open here too, reads from the master wait instead
                # of failing while the program has closed /dev/tty between prompts.
                self.keep.append(slave)

    def wait(self, timeout):
        """(exit code, signal) within `timeout` seconds, else None."""
        deadline = time.time() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                return (code, None) if code >= 0 else (None, -code)
            if time.time() >= deadline:
                return None
            time.sleep(0.01)

    def signal(self, number):
        try:
            os.kill(self.pid, number)
        except OSError:
            pass

    def close(self):
        for fd in [self.from_child, self.stderr] + self.keep:
            if fd is not None:
                _close(fd)
        self.keep = []


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


class Link(object):
    """A child of this hop: a writer thread feeds its input from `outbox`; once
    the master has registered it ("start"), a reader thread routes its frames."""

    def __init__(self, hop, context_id, child):
        self.hop = hop
        self.id = context_id
        self.child = child
        self.outbox = Queue()
        self.lock = compat.allocate_lock()
        self.started = False
        self.pending_stderr = []
        self.tail = b''
        self.stderr_done = compat.allocate_lock()
        self.stderr_done.acquire()
        self.stream = None
        compat.start_thread(self._write, ())
        if child.stderr is not None:
            compat.start_thread(self._read_stderr, ())
        else:
            self.stderr_done.release()

    def _write(self):
        fd = self.child.to_child
        failed = False
        while True:
            data = self.outbox.get()
            if data is None:
                break
            if not failed:
                try:
                    write_all(fd, data)
                except OSError:
                    failed = True  # the child is gone; its reader reports how
        _close(fd)

    def _read_stderr(self):
        fd = self.child.stderr
        try:
            while True:
                try:
                    chunk = os.read(fd, READ_SIZE)
                except OSError:
                    break
                if not chunk:
                    break
                with self.lock:
                    self.tail = (self.tail + chunk)[-STDERR_TAIL:]
                    if not self.started:
                        self.pending_stderr.append(chunk)
                        continue
                self.hop.notify(('stderr', self.id, chunk))
        finally:
            self.stderr_done.release()

    def stderr_text(self, settle):
        """What the child wrote to stderr, once it ended (waiting up to `settle`)."""
        deadline = time.time() + settle
        while not self.stderr_done.acquire(False):
            if time.time() >= deadline:
                break
            time.sleep(0.01)
        else:
            self.stderr_done.release()
        with self.lock:
            return self.tail.decode('utf-8', 'replace')

    def start(self):
        with self.lock:
            self.started = True
            pending, self.pending_stderr = self.pending_stderr, []
        for chunk in pending:
            self.hop.notify(('stderr', self.id, chunk))
        compat.start_thread(self._read_up, ())

    def _read_up(self):
        hop = self.hop
        try:
            while True:
                got = self.stream.frame()
                if got is None:
                    break
                header, data = got
                src, dst = header[4], header[3]
                if src != self.id and hop.routes.get(src) is not self:
                    self.refuse()
                elif dst == 0 and header[6] in SERVED:
                    hop.serve(self, header, data[wire.HEADER_LEN:])
                elif dst == hop.me or dst in hop.routes:
                    # Never to this hop (a child cannot make it run code), never
                    # down to a sibling.
                    self.refuse()
                else:
                    hop.send_up(data)
        except (OSError, IOError, wire.ProtocolError):
            pass  # a broken child ends like one that closed its stream
        self.ended()

    def refuse(self):
        self.hop.notify(('dropped', self.id, 1))

    def ended(self):
        hop = self.hop
        hop.forget(self)
        self.outbox.put(None)
        status = self.child.wait(EXIT_WAIT)
        if status is None:
            self.child.signal(9)
            status = self.child.wait(EXIT_WAIT)
        self.stderr_text(FAILURE_SETTLE)
        self.child.close()
        if self.child.tty is not None and self.child.tty != self.child.to_child:
            _close(self.child.tty)
        code, signal = status or (None, None)
        hop.notify(('ended', self.id, code, signal))

    def stop(self, grace):
        """Close the child's input, then hang up its terminal, SIGTERM, SIGKILL,
        each after `grace` seconds; no grace at all is SIGKILL at once."""
        if not grace:
            self.child.signal(9)
            return
        self.outbox.put(None)
        if self.child.wait(grace) is not None:
            return
        if self.child.tty is not None and self.child.tty != self.child.to_child:
            _close(self.child.tty)
            self.child.tty = None
        self.child.signal(15)
        if self.child.wait(grace) is None:
            self.child.signal(9)


class Hop(object):
    """The routing state of this context as a parent."""

    def __init__(self, conn, payload):
        self.conn = conn
        self.me = conn.context_id
        self.payload = payload
        self.links = {}
        # Context id -> the link of the child it is behind (a child maps to its own).
        self.routes = {}
        self.passwords = {}
        self.waiting = {}
        self.inbox = Queue()
        self.lock = compat.allocate_lock()
        self.next_reply = FIRST_HOP_REPLY

    def start(self):
        conn = self.conn
        inner_read, self.inner_write = os.pipe()
        compat.set_cloexec(inner_read)
        compat.set_cloexec(self.inner_write)
        # Bytes the main loop already read from the parent belong to the stream
        # the routing thread continues; from now on the main loop reads the frames
        # for this context from the internal pipe.
        stream = Stream(conn.rfd, conn.max_message_size, conn._buf)
        conn._buf = b''
        conn.rfd = inner_read
        compat.start_thread(self._feed, ())
        compat.start_thread(self._read_down, (stream,))

    def _feed(self):
        """Frames for this context, to the main loop. A busy main loop delays
        only its own frames, never those routed through."""
        try:
            while True:
                data = self.inbox.get()
                if data is None:
                    break
                write_all(self.inner_write, data)
        except OSError:
            pass
        _close(self.inner_write)

    def _read_down(self, stream):
        me = self.me
        try:
            while True:
                got = stream.frame()
                if got is None:
                    break
                header, data = got
                if header[3] == me:
                    handle = header[6]
                    if handle == HOP and header[4] == 0:
                        self.control(header, data[wire.HEADER_LEN:])
                    elif handle in self.waiting:
                        waiter = self.waiting.pop(handle)
                        waiter[1] = (header, bytes(data[wire.HEADER_LEN:]))
                        waiter[0].release()
                    else:
                        self.inbox.put(data)
                else:
                    link = self.routes.get(header[3])
                    if link is not None:
                        link.outbox.put(data)
        except Exception:
            from pyfleet_core import router
            router.log('hop routing stopped: %r' % (sys.exc_info()[1],))
        finally:
            # The parent is gone: so is this context, and with it its children.
            self.inbox.put(None)
            for link in list(self.links.values()):
                link.outbox.put(None)
            for waiter in list(self.waiting.values()):
                waiter[0].release()

    def control(self, header, body):
        message = wire.loads(body)
        op = message[0]
        if op == 'password':
            self.passwords[message[1]] = message[2]
        elif op == 'connect':
            compat.start_thread(self._connect, (message[1], message[2], bytes(message[3]),
                                                header[7]))
        elif op == 'route':
            via = self.routes.get(message[2])
            if via is not None:
                self.routes[message[1]] = via
        elif op == 'unroute':
            self.routes.pop(message[1], None)
        elif op == 'start':
            link = self.links.get(message[1])
            if link is not None:
                link.start()
        elif op == 'stop':
            link = self.links.get(message[1])
            if link is not None:
                compat.start_thread(link.stop, (message[2] / 1000.0,))

    def notify(self, message):
        try:
            self.conn.send_value(self.conn.parent_id, HOP, message)
        except OSError:
            pass  # the parent is gone; this context ends with it

    def send_up(self, data):
        conn = self.conn
        with conn._write_lock:
            conn._write_all([data])

    def forget(self, link):
        self.links.pop(link.id, None)
        for context_id, via in list(self.routes.items()):
            if via is link:
                self.routes.pop(context_id, None)

    def ask(self, handle, obj):
        """A request to the parent from any thread; the routing thread hands the
        answer over."""
        with self.lock:
            reply_to = self.next_reply
            self.next_reply += 1
        waiter = [compat.allocate_lock(), None]
        waiter[0].acquire()
        self.waiting[reply_to] = waiter
        self.conn.send_value(self.conn.parent_id, handle, obj, reply_to=reply_to)
        waiter[0].acquire()
        if waiter[1] is None:
            raise wire.RequestFailed('pyfleet.HopEnded', 'the parent connection ended', '')
        header, body = waiter[1]
        value = wire.loads(body)
        if header[2] & wire.FLAG_ERROR:
            raise wire.RequestFailed(*value)
        return value

    def serve(self, link, header, body):
        """Answer a request of a context behind `link` from this hop's cache,
        asking the parent once for what is not in it."""
        name = request_text(body)
        flags = 0
        try:
            if name is None:
                raise wire.RequestFailed('ImportError', 'malformed request', '')
            if header[6] == wire.GET_MODULE:
                value = self.module(name)
            elif header[6] == wire.LOAD_CORE:
                value = self.core_module(name)
            else:
                value = self.ask(wire.GET_DATA, name)
        except wire.RequestFailed as exc:
            value = tuple(exc.args)
            flags = wire.FLAG_ERROR
        if header[7]:
            body = marshal.dumps(value, wire.MARSHAL_VERSION)
            link.outbox.put(frame(header[4], self.me, header[7], body, flags))

    def module(self, name):
        """The rows a master would send for module `name`: it and the cached
        modules of its package. The cache is the importer's own, so this hop's
        imports and its children's share it."""
        from pyfleet_core import importer
        known = importer._known
        if name not in known:
            answer = self.ask(wire.GET_MODULE, name)
            known[name] = None
            for row_name, filename, compressed, is_package in answer or ():
                if not isinstance(filename, str):
                    filename = filename.decode('utf-8')
                known[compat.native(row_name)] = (filename, compressed, is_package)
        entry = known.get(name)
        if entry is None:
            return None
        rows = [(name,) + entry]
        package = name if entry[2] else name.rpartition('.')[0]
        if package:
            for other, value in list(known.items()):
                if value is not None and other != name and (
                        other == package or other.rpartition('.')[0] == package):
                    rows.append((other,) + value)
        return rows

    def core_module(self, name):
        package = sys.modules['pyfleet_core']
        filename = 'pyfleet_core/%s.py' % name
        if filename not in package.__sources__:
            got_name, compressed, linemap = self.ask(wire.LOAD_CORE, name)
            package.add_module(name, got_name, zlib.decompress(compressed), linemap)
        source, linemap = package.__sources__[filename]
        return (filename, zlib.compress(source), linemap)

    def _connect(self, context_id, plan, boot, reply_to):
        password = self.passwords.pop(context_id, None)
        try:
            result = self.start_child(context_id, plan, boot, password)
        except Exception:
            result = ('error', 'detail', {'detail': 'the hop failed: %r' % (sys.exc_info()[1],),
                                          'stage': 'loader'})
        password = None
        try:
            self.conn.send_value(self.conn.parent_id, reply_to, result)
        except OSError:
            pass

    def start_child(self, context_id, plan, boot, password):
        """Execute `plan`; ('ok', HELLO body) or ('error', kind, details)."""
        deadline = time.time() + plan['connect_timeout_ms'] / 1000.0
        try:
            child = Child(plan)
        except (OSError, IOError, ValueError) as exc:
            return ('error', 'spawn', {'detail': 'starting %s failed: %s'
                                       % (plan['argv'][0], exc), 'stage': 'loader'})
        link = Link(self, context_id, child)
        nonce = compat.to_bytes(plan['nonce'])
        boot_frame = frame(context_id, self.me, wire.BOOT_CONFIG, boot)
        stream = Stream(child.from_child, self.conn.max_message_size)
        state = {'stage': 'loader'}
        try:
            markers = [(b'PFR' + nonce + b'\n', 'core'), (b'PFC' + nonce + b'\n', 'hello')]
            if plan['payload'] == 'pipelined':
                link.outbox.put(self.payload)
                link.outbox.put(boot_frame)
            else:
                await_ready(stream, child.tty, markers[0][0], plan['prompts'], password,
                            deadline)
                state['stage'] = 'core'
                markers = markers[1:]
                link.outbox.put(self.payload)
                link.outbox.put(boot_frame)
            for marker, stage in markers:
                stream.skip_until(marker, deadline)
                state['stage'] = stage
            while True:
                got = stream.frame(deadline)
                if got is None:
                    raise Failure('detail', {'detail': 'the stream ended before HELLO'})
                header, data = got
                if header[6] == wire.LOAD_CORE and header[4] == context_id:
                    self.serve(link, header, data[wire.HEADER_LEN:])
                    continue
                break
            if header[6] != wire.HELLO or header[4] != context_id:
                raise Failure('detail', {'detail': 'expected HELLO from context %d, got a frame '
                                         'for handle %d from %d' % (context_id, header[6],
                                                                    header[4])})
        except (Failure, wire.ProtocolError, OSError, IOError) as exc:
            if isinstance(exc, Failure):
                kind, details = exc.args
            else:
                kind, details = 'detail', {'detail': str(exc)}
            return self.failed(link, kind, details, state['stage'], password)
        link.stream = stream
        self.links[context_id] = link
        self.routes[context_id] = link
        return ('ok', bytes(data[wire.HEADER_LEN:]))

    def failed(self, link, kind, details, stage, password):
        """Stop a child that did not start and collect what it can tell."""
        child = link.child
        if kind in ('prompt', 'need_password', 'unknown_prompt'):
            child.signal(9)  # it waits for another answer: no point in waiting
        link.outbox.put(None)
        status = child.wait(FAILURE_SETTLE)
        if status is None:
            child.signal(9)
            child.wait(FAILURE_SETTLE)
        stderr = link.stderr_text(FAILURE_SETTLE)
        child.close()
        if child.tty is not None and child.tty != child.to_child:
            _close(child.tty)
        from pyfleet_core import prompts
        secret = password if password else None
        for key, value in list(details.items()):
            if isinstance(value, compat.text_type):
                details[key] = prompts.redact(value, secret)
        details['stage'] = stage
        details['stderr'] = prompts.redact(stderr, secret)
        details['status'] = status
        return ('error', kind, details)


def await_ready(stream, tty, marker, rules, password, deadline):
    """Read the data stream up to the loader's ready marker while answering the
    password prompt on the terminal (the contract of prompt.rs)."""
    from pyfleet_core import prompts
    watcher = prompts.Watcher(rules, password is not None)
    unknown = max(rules.get('unknown_prompt_ms') or 1, 1) / 1000.0
    last = time.time()
    fds = [stream.fd] + ([tty] if tty is not None else [])
    while True:
        now = time.time()
        timeout = deadline - now
        if timeout <= 0:
            raise Failure('timeout', {})
        if watcher.partial_line():
            if now - last >= unknown:
                raise Failure('unknown_prompt', {'seen': watcher.partial_line(),
                                                 'waited_ms': int(unknown * 1000)})
            timeout = min(timeout, last + unknown - now)
        ready = readable(fds, timeout)
        if stream.fd in ready:
            chunk = wire._read(stream.fd, READ_SIZE)
            if not chunk:
                _final_words(tty, watcher)
                raise Failure('eof', {'output': stream.buf[-2000:]})
            last = time.time()
            searched = max(len(stream.buf) - len(marker) + 1, 0)
            stream.buf += chunk
            at = stream.buf.find(marker, searched)
            if at >= 0:
                if at + len(marker) != len(stream.buf):
                    raise Failure('after_marker', {})
                stream.buf = b''
                return
            if len(stream.buf) > MAX_PRELUDE:
                raise Failure('too_much', {'output': stream.buf[:2000]})
        if tty is not None and tty in ready:
            try:
                chunk = os.read(tty, 16384)
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                time.sleep(EIO_RETRY)
                continue
            if not chunk:
                fds = [stream.fd]
                continue
            last = time.time()
            _act(watcher.feed(chunk), tty, password)


def _act(verdict, tty, password):
    from pyfleet_core import prompts
    kind, detail = verdict
    if kind == prompts.WAIT:
        return
    if kind == prompts.TYPE_PASSWORD:
        if password is None:
            raise Failure('need_password', {'prompt': u''})
        write_all(tty, compat.to_bytes(password) + b'\n')
        return
    if kind == prompts.NEED_PASSWORD:
        raise Failure('need_password', {'prompt': detail})
    raise Failure('prompt', {'failure': detail[0], 'line': detail[1]})


def _final_words(tty, watcher):
    """The program ended; what it said last may still wait on the terminal."""
    from pyfleet_core import prompts
    if tty is None:
        return
    while readable([tty], FINAL_WORDS):
        try:
            chunk = os.read(tty, 16384)
        except OSError:
            return
        if not chunk:
            return
        kind, detail = watcher.feed(chunk)
        if kind == prompts.FAILED:
            raise Failure('prompt', {'failure': detail[0], 'line': detail[1]})
