"""What bench/compare.py runs: every measurement as a job (one command printing one
JSON line), grouped by table section. Jobs of a group run back to back, so pyfleet
and its peers for one metric see the same machine conditions."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# PYFLEET_BENCH_BIN measures another build (say, a branch built with its own
# CARGO_TARGET_DIR) against the same peers.
BENCH_BIN = os.environ.get('PYFLEET_BENCH_BIN') or os.path.join(
    ROOT, 'target', 'release', 'pyfleet-bench')
VENV_PYTHON = os.path.join(HERE, '.venv', 'bin', 'python')
PEERS = os.path.join(HERE, 'peers')

# The runtime flavour for rows that do not compare flavours. Rows that do not name
# a transport use the library's default (a socket pair here).
DEFAULT_RUNTIME = 'current-thread'

MIB = 1 << 20
BULK_BYTES = 64 * MIB


class Job(object):
    """One command; `once` jobs run in the first round only (sizes, slow peers)."""

    def __init__(self, key, argv, timeout, once=False):
        self.key = key
        self.argv = argv
        self.timeout = timeout
        self.once = once


def bench(*args):
    return [BENCH_BIN] + list(args)


def peer(script, *args):
    return [VENV_PYTHON, os.path.join(PEERS, script)] + list(args)


# The test bed (scripts/testbed/setup.sh) describes its loopback sshd and users here.
TESTBED_FACTS = os.environ.get('PYFLEET_TESTBED') or '/run/pyfleet-testbed/testbed.env'


def testbed_facts():
    """KEY=VALUE facts of the test bed, or None when it is not set up."""
    try:
        with open(TESTBED_FACTS) as facts:
            lines = [line.strip() for line in facts]
    except OSError:
        return None
    return dict(line.split('=', 1) for line in lines if line and not line.startswith('#')
                and '=' in line)


def hop_jobs(n):
    """ssh and sudo contexts vs the plain commands and mitogen, on the test bed."""
    facts = testbed_facts()
    if facts is None:
        sys.stderr.write('no test bed (%s): the hop rows are skipped; run '
                         'scripts/testbed/setup.sh as root first\n' % TESTBED_FACTS)
        return []
    samples = n(5, 3)
    ssh = ['--host', facts['SSH_HOST'], '--port', facts['SSH_PORT'],
           '--user', facts['SSH_KEY_USER'], '--ssh-config', facts['SSH_CONFIG'],
           '--samples', samples]
    sudo = ['--user', facts['TARGET_USER'], '--samples', samples]
    jobs = []
    for method, args in (('ssh', ssh), ('ssh-mux', ssh), ('sudo', sudo)):
        jobs.append(Job('pyfleet.hop.%s' % method,
                        bench('hop-spawn', '--method', method, *args), 120))
        jobs.append(Job('bare.hop.%s' % method,
                        bench('bare-hop', '--method', method, *args), 120))
    for method, args in (('ssh', ssh), ('sudo', sudo)):
        jobs.append(Job('mitogen.hop.%s' % method,
                        peer('mitogen_peer.py', 'hop-spawn', '--method', method, *args), 180))
    return jobs


def groups(quick):
    """[(section, [Job])]; `quick` trims samples for a fast look (~40 s)."""
    def n(full, fast):
        return str(fast if quick else full)

    spawn_samples = n(5, 3)
    rt_samples = n(10, 5)
    bulk_bytes = str(BULK_BYTES)

    def rt(runtime, transport, in_task=False):
        """A pyfleet round-trip job, keyed pyfleet.rt.<current|multi>.<transport>[.in-task]."""
        key = 'pyfleet.rt.%s.%s%s' % (runtime.split('-')[0], transport, '.in-task' if in_task else '')
        argv = bench('round-trip', '--runtime', runtime, '--transport', transport,
                     '--samples', rt_samples)
        return Job(key, argv + (['--in-task'] if in_task else []), 60)

    return [
        ('spawn', [
            Job('pyfleet.spawn.isolated', bench('spawn', '--isolated', '--samples', spawn_samples), 60),
            Job('bare.spawn.isolated', bench('bare-spawn', '--isolated', '--samples', spawn_samples), 60),
            Job('pyfleet.spawn.default', bench('spawn', '--samples', spawn_samples), 60),
            Job('pyfleet.spawn.system', bench('spawn', '--preset', 'system', '--samples', spawn_samples), 60),
            Job('bare.spawn.default', bench('bare-spawn', '--samples', spawn_samples), 60),
            Job('mitogen.spawn', peer('mitogen_peer.py', 'spawn', '--samples', spawn_samples), 90),
            Job('execnet.spawn', peer('execnet_peer.py', 'spawn', '--samples', spawn_samples), 90),
            Job('bare.spawn.isolated.python',
                peer('bare_peer.py', 'spawn', '--isolated', '--samples', spawn_samples), 60),
        ]),
        ('round trip', [
            rt('current-thread', 'socketpair'),
            Job('mp.rt', peer('multiprocessing_peer.py', 'round-trip', '--samples', rt_samples), 60),
            rt('current-thread', 'pipes'),
            rt('multi-thread', 'socketpair'),
            rt('multi-thread', 'socketpair', in_task=True),
            Job('mitogen.rt', peer('mitogen_peer.py', 'round-trip', '--samples', rt_samples), 90),
            rt('multi-thread', 'pipes'),
            rt('multi-thread', 'pipes', in_task=True),
            Job('raw.ping-pong', peer('raw_pipe_peer.py', 'ping-pong', '--samples', rt_samples), 60),
        ]),
        ('in flight', [
            Job('pyfleet.inflight.current.tasks', bench(
                'in-flight', '--runtime', 'current-thread', '--mode', 'tasks'), 60),
            Job('mitogen.inflight', peer('mitogen_peer.py', 'in-flight'), 90),
            Job('pyfleet.inflight.current.joined', bench(
                'in-flight', '--runtime', 'current-thread', '--mode', 'joined'), 60),
            Job('pyfleet.inflight.multi.tasks', bench(
                'in-flight', '--runtime', 'multi-thread', '--mode', 'tasks'), 60),
            Job('pyfleet.inflight.multi.joined.in-task', bench(
                'in-flight', '--runtime', 'multi-thread', '--mode', 'joined', '--in-task'), 60),
        ]),
        ('bulk', [job for direction in ('argument', 'result') for job in [
            Job('pyfleet.bulk.%s.pipes' % direction, bench(
                'bulk', '--direction', direction, '--transport', 'pipes', '--runtime', DEFAULT_RUNTIME,
                '--bytes', bulk_bytes, '--samples', n(5, 3)), 90),
            Job('raw.bulk.%s.reused' % direction, peer(
                'raw_pipe_peer.py', 'bulk', '--direction', direction, '--buffer', 'reused',
                '--bytes', bulk_bytes, '--samples', n(5, 3)), 90),
            Job('pyfleet.bulk.%s.socketpair' % direction, bench(
                'bulk', '--direction', direction, '--transport', 'socketpair',
                '--runtime', DEFAULT_RUNTIME, '--bytes', bulk_bytes, '--samples', n(5, 3)), 90),
            Job('raw.bulk.%s.fresh' % direction, peer(
                'raw_pipe_peer.py', 'bulk', '--direction', direction, '--buffer', 'fresh',
                '--bytes', bulk_bytes, '--samples', n(5, 3)), 90),
            Job('mitogen.bulk.%s' % direction, peer(
                'mitogen_peer.py', 'bulk', '--direction', direction, '--bytes', bulk_bytes,
                '--samples', n(3, 2)), 120),
        ]]),
        ('fleet', [
            Job('pyfleet.fleet.default', bench('fleet', '--runtime', DEFAULT_RUNTIME), 120),
            Job('mitogen.fleet.threads', peer('mitogen_peer.py', 'fleet', '--mode', 'threads'), 180),
            Job('pyfleet.fleet.isolated', bench('fleet', '--isolated', '--runtime', DEFAULT_RUNTIME), 120),
            Job('bare.rss.isolated', bench('bare-rss', '--isolated'), 60),
            Job('bare.rss.default', bench('bare-rss'), 60),
            # Threads or one after another: neither is reliably faster for mitogen
            # here, so both run and the row takes the faster.
            Job('mitogen.fleet.sequential',
                peer('mitogen_peer.py', 'fleet', '--mode', 'sequential'), 180),
        ]),
        ('channels', [job for size, count in (('1', n(100000, 50000)), ('65536', n(20000, 10000)))
                      for job in [
            Job('pyfleet.channel.%s' % size, bench(
                'channel', '--bytes', size, '--count', count, '--samples', n(5, 3),
                '--runtime', DEFAULT_RUNTIME), 120),
            Job('gipc.channel.%s' % size, peer(
                'gipc_peer.py', 'channel', '--bytes', size, '--count', count,
                '--samples', n(5, 3)), 120),
            Job('mp.channel.%s' % size, peer(
                'multiprocessing_peer.py', 'channel', '--bytes', size, '--count', count,
                '--samples', n(5, 3)), 120),
            Job('gipc.channel.%s.raw' % size, peer(
                'gipc_peer.py', 'channel', '--raw', '--bytes', size, '--count', count,
                '--samples', n(5, 3)), 120),
        ]]),
        ('fork', [
            Job('pyfleet.fork', bench('fork', '--samples', n(20, 10), '--runtime', DEFAULT_RUNTIME), 60),
            Job('mp.fork', peer('multiprocessing_peer.py', 'fork', '--samples', n(20, 10)), 60),
            Job('pyfleet.fork.pool20', bench(
                'fork', '--workers', '20', '--samples', n(5, 3), '--runtime', DEFAULT_RUNTIME), 120),
        ]),
        ('hops', hop_jobs(n)),
        ('bootstrap', [
            Job('pyfleet.bootstrap', bench('bootstrap-size'), 30, once=True),
            Job('pyfleet.bootstrap.isolated', bench('bootstrap-size', '--isolated'), 30, once=True),
            Job('mitogen.bootstrap', peer('mitogen_peer.py', 'bootstrap-size'), 60, once=True),
            Job('execnet.bootstrap', peer('execnet_peer.py', 'bootstrap-size'), 60, once=True),
        ]),
    ]


def check_tools():
    missing = [path for path in (BENCH_BIN, VENV_PYTHON) if not os.path.exists(path)]
    if missing:
        sys.exit('missing %s: run bench/run.sh, which builds and installs them'
                 % ', '.join(missing))
