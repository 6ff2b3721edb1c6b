"""A bare interpreter start timed from Python, to show how much the choice of
timer (Rust's Instant around std::process vs Python's perf_counter around
subprocess) moves the spawn baseline that the Python peers would be held to."""
import subprocess
import time

import common


def spawn(args):
    argv = [common.PYTHON] + (['-I', '-S'] if args.isolated else []) + ['-c', 'pass']
    environ = common.clean_environ()
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       env=environ, check=True, timeout=30)
        if index:
            samples.append(time.perf_counter() - start)
    common.emit({'bench': 'bare-spawn', 'unit': 's', 'isolated': args.isolated}, samples)


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    sp = sub.add_parser('spawn')
    sp.add_argument('--samples', type=int, default=5)
    sp.add_argument('--isolated', action='store_true')
    args = common.parse(p)
    spawn(args)


if __name__ == '__main__':
    main()
