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


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    rt = sub.add_parser('round-trip')
    rt.add_argument('--samples', type=int, default=10)
    rt.add_argument('--calls', type=int, default=1000)
    args = common.parse(p)
    round_trip(args)


if __name__ == '__main__':
    main()
