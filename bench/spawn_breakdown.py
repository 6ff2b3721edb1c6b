"""Where spawn → first call goes: traces one pyfleet start with strace and splits
it at the protocol's landmarks, then costs the stdlib modules the core imports
(-X importtime, without strace).

    /usr/bin/python3.11 bench/spawn_breakdown.py [--default]   (needs strace)

strace slows every traced syscall, so phases read longer than in the benchmark;
their proportions and the list of imports are what this is for. Only the
syscalls that mark phases are traced (with --seccomp-bpf the rest run untraced).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import plan

PYTHON = '/usr/bin/python3.11'
LINE = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*)$')
START = re.compile(r'^(\w+)\((.*)$')
RESUMED = re.compile(r'^<\.\.\. (\w+) resumed>(.*)$')


def trace(isolated):
    """strace events of one warm spawn as (pid, time, syscall, text) completions."""
    out = tempfile.NamedTemporaryFile(suffix='.strace', delete=False).name
    argv = [plan.BENCH_BIN, 'spawn', '--samples', '1', '--deadline-secs', '60']
    if isolated:
        argv.append('--isolated')
    subprocess.run(
        ['strace', '-f', '--seccomp-bpf', '-ttt', '-s', '48', '-e', 'signal=none',
         '-e', 'trace=execve,read,write,writev,openat,exit_group,socketpair,pipe2,clone,clone3,vfork', '-o', out] + argv,
        check=True, stdout=subprocess.DEVNULL, timeout=120)
    with open(out) as f:
        lines = f.read().splitlines()
    os.unlink(out)
    events, pending = [], {}
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        pid, when, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        resumed = RESUMED.match(rest)
        if resumed:
            name, text = resumed.group(1), pending.pop(pid, '') + resumed.group(2)
        else:
            start = START.match(rest)
            if not start:
                continue
            name, text = start.group(1), start.group(2)
            if text.endswith('<unfinished ...>'):
                pending[pid] = text
                continue
        events.append((pid, when, name, text))
    return events


def phases(events):
    """Landmarks of the last (warm) child: (start, [(label, time)], imports). The
    start is the master creating the channel (socket pair or pipes) for it."""
    execs = [e for e in events if e[2] == 'execve' and PYTHON in e[3]]
    child, exec_time = execs[-1][0], execs[-1][1]
    channels = [e for e in events if e[2] in ('socketpair', 'pipe2') and e[1] < exec_time]
    t0 = channels[-1][1] if channels else exec_time
    forks = [e for e in events if e[2] in ('clone', 'clone3', 'vfork') and t0 <= e[1] < exec_time
             and e[3].rstrip().endswith(str(child))]
    later = [e for e in events if e[1] >= exec_time]

    def first(predicate, after):
        for event in later:
            if event[1] >= after and predicate(event):
                return event
        raise SystemExit('landmark not found after %.6f' % after)

    mine = lambda e: e[0] == child
    ready = first(lambda e: mine(e) and e[2] == 'write' and '"PFR' in e[3], t0)
    payload = first(lambda e: mine(e) and e[2] == 'read' and e[3].startswith('0,'), ready[1])
    running = first(lambda e: mine(e) and e[2] == 'write' and '"PFC' in e[3], payload[1])
    hello = first(lambda e: mine(e) and e[2] == 'writev', running[1])
    request = first(lambda e: not mine(e) and e[2] == 'writev' and 'getpid' in e[3], hello[1])
    reply = first(lambda e: mine(e) and e[2] == 'writev', request[1])
    answered = first(lambda e: not mine(e) and e[2] == 'read' and '"PF' in e[3], reply[1])
    imports = {}
    for label, lo, hi in (('before READY', exec_time, ready[1]),
                          ('payload → RUNNING', payload[1], running[1]),
                          ('RUNNING → HELLO', running[1], hello[1]),
                          ('call', request[1], reply[1])):
        imports[label] = [re.search(r'"([^"]+)"', e[3]).group(1) for e in later
                          if mine(e) and e[2] == 'openat' and lo <= e[1] <= hi
                          and re.search(r'\.(pyc|so)"', e[3]) and 'ENOENT' not in e[3]]
    sent = sum(int(m.group(1)) for m in (
        re.search(r'= (\d+)$', e[3]) for e in later
        if not mine(e) and e[2] == 'writev' and e[1] <= hello[1]) if m)
    marks = [
        ('master creates the channel → fork returns', forks[-1][1] if forks else t0),
        ('fork → exec of python', exec_time),
        ('exec → loader prints READY (interpreter start-up, loader compile)', ready[1]),
        ('READY → payload read by the loader', payload[1]),
        ('payload → RUNNING (decompress, compile core, imports)', running[1]),
        ('RUNNING → HELLO sent (boot config, facts)', hello[1]),
        ('HELLO → master sends the first call', request[1]),
        ('call → child replies', reply[1]),
        ('reply → master reads it', answered[1]),
    ]
    return t0, marks, imports, sent


def module_name(path):
    """/usr/lib/python3.11/collections/__pycache__/__init__.cpython-311.pyc -> collections"""
    rel = path.split('/python3.11/', 1)[-1]
    rel = re.sub(r'__pycache__/', '', rel)
    rel = re.sub(r'\.cpython-311.*$', '', rel)
    rel = re.sub(r'^lib-dynload/', '', rel)
    rel = re.sub(r'^.*/dist-packages/', '', rel)
    rel = re.sub(r'/__init__$', '', rel)
    return rel.replace('/', '.')


def import_costs(modules, isolated):
    """Cumulative -X importtime (µs) of each module, each in a fresh interpreter."""
    costs = []
    for name in modules:
        flags = ['-I', '-S'] if isolated else ['-I']
        result = subprocess.run([PYTHON] + flags + ['-X', 'importtime', '-c', 'import ' + name],
                                capture_output=True, text=True, timeout=30)
        for line in result.stderr.splitlines():
            parts = [p.strip() for p in line.split('|')]
            if len(parts) == 3 and parts[2] == name:
                costs.append((int(parts[1]), name))
    return sorted(costs, reverse=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--default', action='store_true',
                        help='children with site enabled (default: -I -S)')
    args = parser.parse_args()
    plan.check_tools()
    isolated = not args.default
    t0, marks, imports, sent = phases(trace(isolated))
    print('one warm spawn, %s, under strace (times from the master creating its channel):'
          % ('-I -S' if isolated else 'default (site)'))
    previous = t0
    for label, when in marks:
        print('  %8.2f ms  +%7.2f ms  %s' % ((when - t0) * 1e3, (when - previous) * 1e3, label))
        previous = when
    print('bytes the master wrote to the child before HELLO (payload, boot configuration): %d'
          % sent)
    for label, files in imports.items():
        if files:
            print('modules opened %s: %s' % (label, ', '.join(module_name(f) for f in files)))
    loaded = [module_name(f) for f in imports['payload → RUNNING'] + imports['RUNNING → HELLO']]
    top = [(cost, name) for cost, name in import_costs(loaded, isolated)]
    if top:
        print('their import cost without strace (cumulative, each in a fresh interpreter):')
        for cost, name in top:
            print('  %7.2f ms  %s' % (cost / 1e3, name))
    return 0


if __name__ == '__main__':
    sys.exit(main())
