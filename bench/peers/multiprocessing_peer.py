"""multiprocessing's Pipe: the stdlib's answer to "talk to another Python process".
A forked Process echoes whatever arrives on its end of a duplex Pipe."""
import multiprocessing
import time

import common

TIMEOUT = 30.0


def echo(connection, parents_end):
    # The fork copied the parent's end too; without closing it here, the parent
    # closing its own would never reach this side as EOF.
    parents_end.close()
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        connection.send(message)


def round_trip(args):
    """send(None) then recv(), in batches; a sample is the mean of a batch."""
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=echo, args=(theirs, ours), daemon=True)
    process.start()
    theirs.close()
    samples = []
    try:
        for index in range(args.samples + 1):
            start = time.perf_counter()
            for _ in range(args.calls):
                ours.send(None)
                ours.recv()
            per_call = (time.perf_counter() - start) / args.calls
            if index:
                samples.append(per_call)
            if not ours.poll(0) and not process.is_alive():
                raise SystemExit('the echo process died')
    finally:
        ours.close()
        process.join(TIMEOUT)
        if process.is_alive():
            process.kill()
    common.emit({'bench': 'round-trip', 'unit': 's', 'calls_per_sample': args.calls,
                 'start_method': multiprocessing.get_start_method()}, samples)


def produce(connection, parents_end, count, size):
    parents_end.close()
    data = b'x' * size
    send = connection.send_bytes
    for _ in range(count):
        send(data)
    connection.close()


def channel(args):
    """A forked Process sends `count` messages of `size` bytes with send_bytes;
    the clock runs from its start until the parent has received the last."""
    samples = []
    for index in range(args.samples + 1):
        ours, theirs = multiprocessing.Pipe(duplex=False)
        process = multiprocessing.Process(target=produce, args=(theirs, ours, args.count, args.bytes),
                                          daemon=True)
        start = time.perf_counter()
        process.start()
        theirs.close()
        received = 0
        recv = ours.recv_bytes
        for _ in range(args.count):
            received += len(recv())
        elapsed = time.perf_counter() - start
        assert received == args.count * args.bytes
        ours.close()
        process.join(TIMEOUT)
        if index:
            samples.append(elapsed)
    median = sorted(samples)[len(samples) // 2]
    common.emit({'bench': 'channel', 'unit': 's', 'bytes': args.bytes, 'count': args.count,
                 'median_messages_per_s': args.count / median,
                 'median_bytes_per_s': args.count * args.bytes / median}, samples)


def answer(connection, parents_end):
    parents_end.close()
    connection.send(connection.recv())


def fork(args):
    """Fork a Process with a duplex Pipe, until it has answered one message
    (the child comes from a fork of this warm interpreter, like pyfleet's)."""
    ctx = multiprocessing.get_context('fork')
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=answer, args=(theirs, ours), daemon=True)
        process.start()
        theirs.close()
        ours.send(None)
        ours.recv()
        elapsed = time.perf_counter() - start
        ours.close()
        process.join(TIMEOUT)
        if index:
            samples.append(elapsed)
    common.emit({'bench': 'fork', 'unit': 's'}, samples)


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    rt = sub.add_parser('round-trip')
    rt.add_argument('--samples', type=int, default=10)
    rt.add_argument('--calls', type=int, default=1000)
    ch = sub.add_parser('channel')
    ch.add_argument('--samples', type=int, default=5)
    ch.add_argument('--count', type=int, default=100000)
    ch.add_argument('--bytes', type=int, default=1)
    fk = sub.add_parser('fork')
    fk.add_argument('--samples', type=int, default=10)
    args = common.parse(p)
    {'round-trip': round_trip, 'channel': channel, 'fork': fork}[args.command](args)


if __name__ == '__main__':
    main()
