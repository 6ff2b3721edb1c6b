"""gipc: child processes and pipes for gevent programs. A child started with
gipc.start_process puts `count` messages on a gipc pipe; the parent gets them,
as in gipc's own throughput benchmark."""
import time

import gevent  # noqa: F401 (gipc needs it imported first)
import gipc

import common

TIMEOUT = 30.0


def produce(writer, count, size):
    data = b'x' * size
    put = writer.put
    for _ in range(count):
        put(data)


def channel(args):
    samples = []
    options = {'encoder': None, 'decoder': None} if args.raw else {}
    for index in range(args.samples + 1):
        with gipc.pipe(**options) as (reader, writer):
            start = time.perf_counter()
            process = gipc.start_process(target=produce, args=(writer, args.count, args.bytes))
            received = 0
            get = reader.get
            for _ in range(args.count):
                received += len(get())
            elapsed = time.perf_counter() - start
            process.join(TIMEOUT)
        assert received == args.count * args.bytes
        if index:
            samples.append(elapsed)
    median = sorted(samples)[len(samples) // 2]
    common.emit({'bench': 'channel', 'unit': 's', 'bytes': args.bytes, 'count': args.count,
                 'encoding': 'raw' if args.raw else 'pickle',
                 'median_messages_per_s': args.count / median,
                 'median_bytes_per_s': args.count * args.bytes / median}, samples)


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    ch = sub.add_parser('channel')
    ch.add_argument('--samples', type=int, default=5)
    ch.add_argument('--count', type=int, default=100000)
    ch.add_argument('--bytes', type=int, default=1)
    ch.add_argument('--raw', action='store_true', help='bytes as they are (no pickle)')
    args = common.parse(p)
    channel(args)


if __name__ == '__main__':
    main()
