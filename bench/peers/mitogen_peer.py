"""mitogen, measured the way bench/pyfleet-bench measures pyfleet.

Every child is `router.local(python_path=/usr/bin/python3.11)`; mitogen's broker and
router are made once per run, outside the clock (they are its long-lived parts, as
pyfleet's Broker is, whose creation costs nothing). Timed from Python.
"""
import os
import threading
import time

import mitogen.core
import mitogen.master
import mitogen.parent

import common
import targets

TIMEOUT = 30.0


class Master(object):
    def __init__(self):
        self.broker = mitogen.master.Broker()
        self.router = mitogen.master.Router(self.broker)

    def local(self):
        return self.router.local(python_path=common.PYTHON, connect_timeout=TIMEOUT)

    def close(self):
        self.broker.shutdown()
        self.broker.join()


def call(context, fn, *args):
    return context.call_async(fn, *args).get(timeout=TIMEOUT).unpickle()


def spawn(master, args):
    """Spawn → first call (os.getpid) answered; the child's shutdown is off the clock."""
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        context = master.local()
        call(context, os.getpid)
        elapsed = time.perf_counter() - start
        context.shutdown(wait=True)
        if index:
            samples.append(elapsed)
    common.emit({'bench': 'spawn', 'unit': 's'}, samples)


def round_trip(master, args):
    context = master.local()
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        for _ in range(args.calls):
            call(context, targets.noop)
        per_call = (time.perf_counter() - start) / args.calls
        if index:  # the first batch ships the targets module and warms up
            samples.append(per_call)
    common.emit({'bench': 'round-trip', 'unit': 's', 'calls_per_sample': args.calls}, samples)


def in_flight(master, args):
    """call_async for every call, then .get() on each receiver."""
    context = master.local()
    call(context, targets.noop)
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        receivers = [context.call_async(targets.noop) for _ in range(args.calls)]
        for receiver in receivers:
            receiver.get(timeout=TIMEOUT).unpickle()
        if index:
            samples.append(time.perf_counter() - start)
    common.emit({'bench': 'in-flight', 'unit': 's', 'calls': args.calls}, samples)


def bulk(master, args):
    """As pyfleet-bench bulk: the sender's bytes exist before the clock starts."""
    context = master.local()
    size = args.bytes
    call(context, targets.blob, size)  # ships targets and makes the child's blob
    data = b'x' * size
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        if args.direction == 'argument':
            received = call(context, len, data)
        else:
            received = len(call(context, targets.blob, size))
        elapsed = time.perf_counter() - start
        assert received == size, received
        if index:
            samples.append(elapsed)
    common.emit({'bench': 'bulk', 'unit': 's', 'bytes': size,
                 'direction': args.direction.capitalize(),
                 'best_bytes_per_s': size / min(samples)}, samples)


def fleet(master, args):
    """Start N contexts, in threads (one router.local each) or one after another."""
    first = master.local()  # one-time costs off the clock, as pyfleet-bench does
    call(first, os.getpid)
    first.shutdown(wait=True)
    rss_before = common.vm_rss()
    contexts = []
    errors = []

    def start_one():
        try:
            contexts.append(master.local())
        except Exception as exc:  # reported after the join
            errors.append(exc)

    start = time.perf_counter()
    if args.mode == 'threads':
        threads = [threading.Thread(target=start_one) for _ in range(args.contexts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
    else:
        for _ in range(args.contexts):
            start_one()
    elapsed = time.perf_counter() - start
    if errors or len(contexts) != args.contexts:
        raise SystemExit('mitogen fleet: %d started, errors: %r' % (len(contexts), errors[:3]))
    pids = [call(context, os.getpid) for context in contexts]
    growth = (common.vm_rss() - rss_before) / float(len(contexts))
    child_rss = sorted(common.vm_rss(pid) for pid in pids)
    for context in contexts:
        context.shutdown()
    common.emit({
        'bench': 'fleet', 'unit': 's', 'contexts': args.contexts, 'mode': args.mode,
        'master_rss_growth_per_context': {'median': growth},
        'child_rss': {'median': child_rss[len(child_rss) // 2], 'max': child_rss[-1],
                      'min': child_rss[0]},
    }, [elapsed])


def bootstrap_size(master, args):
    """What mitogen sends before its core runs, captured from a real connection: the
    argv from get_boot_command() (python path, -c stub, base64 first stage, name,
    length) and the preamble its first stage reads from stdin (the compressed
    mitogen.core source plus its configuration)."""
    seen = {}
    connection_class = mitogen.parent.Connection
    original_boot = connection_class.get_boot_command
    original_preamble = connection_class.get_preamble

    def get_boot_command(self):
        argv = original_boot(self)
        seen['argv'] = argv
        return argv

    def get_preamble(self):
        preamble = original_preamble(self)
        seen['preamble'] = len(preamble)
        return preamble

    connection_class.get_boot_command = get_boot_command
    connection_class.get_preamble = get_preamble
    try:
        context = master.local()
        call(context, os.getpid)
    finally:
        connection_class.get_boot_command = original_boot
        connection_class.get_preamble = original_preamble
    argv_bytes = sum(len(arg.encode()) for arg in seen['argv'])
    common.emit_fields({
        'bench': 'bootstrap-size', 'unit': 'bytes',
        'argv_bytes': argv_bytes, 'payload_bytes': seen['preamble'],
        'total': argv_bytes + seen['preamble'],
        'mitogen_version': '.'.join(map(str, mitogen.__version__)),
    })


def hop_spawn(master, args):
    """Through ssh (key login on the test bed's loopback sshd) or sudo to another
    user: spawn → first call (os.getpid) answered; shutdown off the clock."""
    def connect():
        if args.method == 'sudo':
            return master.router.sudo(username=args.user, python_path=common.PYTHON,
                                      connect_timeout=TIMEOUT)
        ssh_args = ['-F', args.ssh_config] if args.ssh_config else []
        return master.router.ssh(hostname=args.host, port=args.port, username=args.user,
                                 python_path=common.PYTHON, ssh_args=ssh_args,
                                 check_host_keys='enforce', connect_timeout=TIMEOUT)
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        context = connect()
        call(context, os.getpid)
        elapsed = time.perf_counter() - start
        context.shutdown(wait=True)
        if index:
            samples.append(elapsed)
    common.emit({'bench': 'hop-spawn', 'unit': 's', 'method': args.method}, samples)


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    sub.add_parser('spawn').add_argument('--samples', type=int, default=5)
    rt = sub.add_parser('round-trip')
    rt.add_argument('--samples', type=int, default=10)
    rt.add_argument('--calls', type=int, default=200)
    fl = sub.add_parser('in-flight')
    fl.add_argument('--samples', type=int, default=10)
    fl.add_argument('--calls', type=int, default=100)
    bk = sub.add_parser('bulk')
    bk.add_argument('--direction', choices=('argument', 'result'), required=True)
    bk.add_argument('--bytes', type=int, default=64 << 20)
    bk.add_argument('--samples', type=int, default=3)
    ft = sub.add_parser('fleet')
    ft.add_argument('--contexts', type=int, default=50)
    ft.add_argument('--mode', choices=('threads', 'sequential'), default='threads')
    sub.add_parser('bootstrap-size')
    hop = sub.add_parser('hop-spawn')
    hop.add_argument('--method', choices=('ssh', 'sudo'), required=True)
    hop.add_argument('--host', default='127.0.0.1')
    hop.add_argument('--port', type=int, default=2222)
    hop.add_argument('--user', default='pfkey')
    hop.add_argument('--ssh-config')
    hop.add_argument('--samples', type=int, default=5)
    args = common.parse(p)
    master = Master()
    try:
        {
            'spawn': spawn, 'round-trip': round_trip, 'in-flight': in_flight,
            'bulk': bulk, 'fleet': fleet, 'bootstrap-size': bootstrap_size,
            'hop-spawn': hop_spawn,
        }[args.command](master, args)
    finally:
        master.close()


if __name__ == '__main__':
    main()
