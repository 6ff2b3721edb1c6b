"""Fleet runs side by side: wall time for one trivial call on N contexts over the
test bed's namespace hosts, for `pyfleet run`, plain `ssh HOST python3 -c …` in
parallel (no library: the floor), and mitogen; then the master's CPU time and peak
RSS for 100 concurrent contexts. Rounds interleave the three so that all see the
same machine; the ratios are what to quote.

    bench/fleet/run.sh [--rounds N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def facts(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#') and '=' in line:
                key, value = line.split('=', 1)
                values[key] = value
    return values


def inventory(bed, contexts, directory):
    """`contexts` inventory hosts spread over the namespace hosts (several names
    may share an address: each is its own context and ssh connection)."""
    addresses = bed['NETNS_HOSTS'].split()
    lines = ['[defaults]',
             'user = "%s"' % bed['SSH_KEY_USER'],
             'identity = "%s"' % bed['SSH_KEY'],
             'known_hosts = "%s"' % bed['SSH_KNOWN_HOSTS'],
             'host_key = "enforce"',
             'python = "%s"' % bed['PYTHON_FOR_USERS'], '']
    for index in range(contexts):
        lines += ['[hosts.c%03d]' % index,
                  'address = "%s"' % addresses[index % len(addresses)]]
    path = os.path.join(directory, 'fleet-%d.toml' % contexts)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def timed(argv, env=None):
    """Wall time of a command, its CPU time (with the processes it waited for:
    the ssh clients) and its peak RSS, sampled every 5 ms."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                with open('/proc/%d/status' % proc.pid) as status:
                    for line in status:
                        if line.startswith('VmRSS:'):
                            peak[0] = max(peak[0], int(line.split()[1]) * 1024)
            except (IOError, OSError, ValueError):
                pass
            done.wait(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise SystemExit('%s timed out:\n%s' % (argv[0], err.decode(errors='replace')))
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit('%s failed (%d):\n%s\n%s' % (
            ' '.join(argv[:4]), proc.returncode, out.decode(errors='replace')[-2000:],
            err.decode(errors='replace')[-2000:]))
    return wall, out, peak[0]


def cpu_of(argv, env=None):
    """User+system CPU seconds of a command and everything it waited for."""
    before = os.times()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=True, timeout=300)
    after = os.times()
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def ssh_parallel(bed, contexts, forks):
    """No library: `ssh HOST python3 -c …` for every context, `forks` at a time."""
    addresses = bed['NETNS_HOSTS'].split()
    code = 'import os; print(os.getpid())'

    def one(index):
        argv = ['ssh', '-T', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
                '-o', 'UserKnownHostsFile=' + bed['SSH_KNOWN_HOSTS'],
                '-i', bed['SSH_KEY'], '-l', bed['SSH_KEY_USER'],
                addresses[index % len(addresses)], bed['PYTHON_FOR_USERS'], '-c', repr(code)]
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              check=True, timeout=120).stdout

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=forks) as pool:
        outputs = list(pool.map(one, range(contexts)))
    wall = time.perf_counter() - start
    assert len(set(outputs)) == contexts
    return wall


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--pyfleet', required=True)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--facts', default=os.environ.get('PYFLEET_TESTBED', '/run/pyfleet-testbed/testbed.env'))
    args = p.parse_args()
    bed = facts(args.facts)
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
    results = {}
    directory = tempfile.mkdtemp(prefix='pyfleet-fleet-bench-')
    mitogen_base = [sys.executable, os.path.join(HERE, 'mitogen_fleet.py'),
                    '--user', bed['SSH_KEY_USER'], '--identity', bed['SSH_KEY'],
                    '--known-hosts', bed['SSH_KNOWN_HOSTS'], '--python', bed['PYTHON_FOR_USERS']]
    for host in bed['NETNS_HOSTS'].split():
        mitogen_base += ['--host', host]

    def record(key, value):
        results.setdefault(key, []).append(value)

    for contexts in (3, 30):
        forks = contexts
        inv = inventory(bed, contexts, directory)
        pyfleet = [args.pyfleet, 'run', '-i', inv, 'all', '--forks', str(forks), '--json',
                   '-m', 'os.getpid']
        mitogen = mitogen_base + ['--contexts', str(contexts), '--forks', str(forks)]
        for round_index in range(args.rounds + 1):  # round 0 warms caches
            order = [('pyfleet', lambda: timed(pyfleet, env)[0]),
                     ('ssh', lambda: ssh_parallel(bed, contexts, forks)),
                     ('mitogen', lambda: timed(mitogen, env)[0])]
            if round_index % 2:
                order.reverse()
            for name, measure in order:
                wall = measure()
                if round_index:
                    record('%s/%d' % (name, contexts), wall)

    inv = inventory(bed, 100, directory)
    pyfleet = [args.pyfleet, 'run', '-i', inv, 'all', '--forks', '100', '--json', '-m', 'os.getpid']
    mitogen = mitogen_base + ['--contexts', '100', '--forks', '100']
    for round_index in range(max(2, args.rounds // 2) + 1):
        for name, argv in (('pyfleet', pyfleet), ('mitogen', mitogen)):
            _, _, rss = timed(argv, env)
            cpu = cpu_of(argv, env)
            if round_index:
                record('%s/100/rss' % name, rss)
                record('%s/100/cpu' % name, cpu)

    med = {key: statistics.median(values) for key, values in results.items()}
    print('| measurement | pyfleet | peer | ratio (pyfleet / peer) |')
    print('|---|---|---|---|')
    for contexts in (3, 30):
        for peer in ('ssh', 'mitogen'):
            a, b = med['pyfleet/%d' % contexts], med['%s/%d' % (peer, contexts)]
            label = 'plain ssh in parallel' if peer == 'ssh' else 'mitogen'
            print('| trivial call on %d contexts, wall (vs %s) | %.3f s | %.3f s | %.2fx |'
                  % (contexts, label, a, b, a / b))
    a, b = med['pyfleet/100/cpu'], med['mitogen/100/cpu']
    print('| 100 concurrent contexts: master + ssh clients CPU | %.2f s | %.2f s | %.2fx |' % (a, b, a / b))
    a, b = med['pyfleet/100/rss'], med['mitogen/100/rss']
    print('| 100 concurrent contexts: master peak RSS | %.1f MiB | %.1f MiB | %.2fx |'
          % (a / 2**20, b / 2**20, a / b))
    out = os.path.join(HERE, '..', 'results', 'fleet-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        json.dump({'rounds': args.rounds, 'samples': results, 'medians': med,
                   'loadavg': os.getloadavg()}, f, indent=1)
    print('\nsamples: %s' % os.path.normpath(out))


if __name__ == '__main__':
    main()
