"""Raw baselines with no library: what the kernel and CPython give for free.

bulk: a framed transfer over os.pipe (8-byte length, then the payload) between
this process and a forked one, in the direction asked. The sender's bytes exist
before the clock starts; the receiver reads everything into one bytearray (readv
into a memoryview, no copies); one byte comes back so the clock stops when the
receiver has it all, as a call's reply does. Pipes get F_SETPIPE_SZ 1 MiB, the
capacity pyfleet asks for. --buffer reused reads every transfer into the same
buffer: the pipe's own throughput. --buffer fresh allocates a new bytearray per
transfer, which adds zeroing and first-touch page faults of 64 MiB.

ping-pong: one byte each way over two pipes, the floor for a round trip.
"""
import fcntl
import os
import struct
import time

import common

PIPE_CAPACITY = 1 << 20
LENGTH = struct.Struct('<Q')


def pipe():
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_CAPACITY)
    return r, w


def read_exact(fd, size, buffer=None):
    """`size` bytes into `buffer` (a new one if None)."""
    if buffer is None:
        buffer = bytearray(size)
    view = memoryview(buffer)
    pos = 0
    while pos < size:
        got = os.readv(fd, [view[pos:]])
        if not got:
            raise EOFError('pipe closed after %d of %d bytes' % (pos, size))
        pos += got
    return buffer


def write_all(fd, *parts):
    view = memoryview(b''.join(parts)) if len(parts) > 1 else memoryview(parts[0])
    while view:
        view = view[os.write(fd, view):]


def send_framed(fd, data):
    # Length and payload in one writev, as pyfleet sends header and body.
    header = LENGTH.pack(len(data))
    written = os.writev(fd, [header, data])
    if written < len(header):
        raise OSError('short header write')
    write_all(fd, memoryview(data)[written - len(header):])


def receive_framed(fd, reused):
    """One frame's payload: into `reused` (a bytearray of the right size) or, if
    None, into a fresh buffer."""
    (size,) = LENGTH.unpack(read_exact(fd, LENGTH.size))
    if reused is not None and len(reused) != size:
        raise ValueError('frame of %d bytes for a %d-byte buffer' % (size, len(reused)))
    return read_exact(fd, size, reused)


def fork(child):
    pid = os.fork()
    if pid == 0:
        try:
            child()
        finally:
            os._exit(0)
    return pid


def bulk(args):
    size = args.bytes
    data = b'x' * size
    # Made before the fork, so both sides have it when --buffer reused.
    reused = bytearray(size) if args.buffer == 'reused' else None
    to_child_r, to_child_w = pipe()
    to_parent_r, to_parent_w = pipe()

    def child():
        os.close(to_child_w)
        os.close(to_parent_r)
        while True:
            if args.direction == 'result':
                if not os.read(to_child_r, 1):
                    return
                send_framed(to_parent_w, data)
            else:
                try:
                    received = receive_framed(to_child_r, reused)
                except EOFError:
                    return
                assert len(received) == size
                del received
                os.write(to_parent_w, b'k')

    pid = fork(child)
    os.close(to_child_r)
    os.close(to_parent_w)
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        if args.direction == 'result':
            os.write(to_child_w, b'g')
            received = receive_framed(to_parent_r, reused)
            elapsed = time.perf_counter() - start
            assert len(received) == size
            del received
        else:
            send_framed(to_child_w, data)
            if os.read(to_parent_r, 1) != b'k':
                raise SystemExit('the reader died')
            elapsed = time.perf_counter() - start
        if index:
            samples.append(elapsed)
    os.close(to_child_w)
    os.waitpid(pid, 0)
    common.emit({'bench': 'bulk', 'unit': 's', 'bytes': size,
                 'direction': args.direction.capitalize(), 'buffer': args.buffer,
                 'best_bytes_per_s': size / min(samples)}, samples)


def ping_pong(args):
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()

    def child():
        os.close(to_child_w)
        os.close(to_parent_r)
        while os.read(to_child_r, 1):
            os.write(to_parent_w, b'p')

    pid = fork(child)
    os.close(to_child_r)
    os.close(to_parent_w)
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        for _ in range(args.calls):
            os.write(to_child_w, b'p')
            os.read(to_parent_r, 1)
        if index:
            samples.append((time.perf_counter() - start) / args.calls)
    os.close(to_child_w)
    os.waitpid(pid, 0)
    common.emit({'bench': 'round-trip', 'unit': 's', 'calls_per_sample': args.calls}, samples)


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    bk = sub.add_parser('bulk')
    bk.add_argument('--direction', choices=('argument', 'result'), required=True)
    bk.add_argument('--bytes', type=int, default=64 << 20)
    bk.add_argument('--samples', type=int, default=5)
    bk.add_argument('--buffer', choices=('reused', 'fresh'), default='reused')
    pp = sub.add_parser('ping-pong')
    pp.add_argument('--samples', type=int, default=10)
    pp.add_argument('--calls', type=int, default=1000)
    args = common.parse(p)
    {'bulk': bulk, 'ping-pong': ping_pong}[args.command](args)


if __name__ == '__main__':
    main()
