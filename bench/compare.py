"""Run every measurement (see bench/README.md), pyfleet and its peers interleaved,
print the markdown comparison table and write the raw results to bench/results/.

Run through bench/run.sh, which prepares the venv and the release binary.
Usage: compare.py [--quick] [--rounds N]
"""
import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time

import plan
import report

RESULTS_DIR = os.path.join(plan.HERE, 'results')


def clean_environ():
    """pyfleet drops the master's PYTHON* variables for its children; every job gets
    the environment without them so the peers' children start the same way."""
    return {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}


def run_job(job):
    """(parsed JSON or None, record). A job over its timeout is killed with its
    whole process group, children included."""
    started = time.time()
    load_before = os.getloadavg()[0]
    process = subprocess.Popen(
        job.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_environ(),
        cwd=plan.PEERS, start_new_session=True, universal_newlines=True)
    try:
        stdout, stderr = process.communicate(timeout=job.timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        timed_out = True
    record = {
        'key': job.key, 'argv': job.argv, 'seconds': round(time.time() - started, 3),
        'exit': process.returncode, 'timed_out': timed_out,
        # Other work on the machine shows up here; read ratios from busy runs with care.
        'loadavg_1min': [load_before, os.getloadavg()[0]],
    }
    result = None
    lines = [line for line in stdout.splitlines() if line.startswith('{')]
    if process.returncode == 0 and lines:
        result = json.loads(lines[-1])
        record['result'] = result
    else:
        record['stderr'] = stderr[-2000:]
    return result, record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='one round, fewer samples')
    parser.add_argument('--rounds', type=int, help='rounds of every group (default 3, quick 1)')
    parser.add_argument('--section', action='append',
                        help='run only this group (repeatable): spawn, round trip, in flight, '
                             'bulk, fleet, hops, bootstrap')
    args = parser.parse_args()
    plan.check_tools()
    rounds = args.rounds or (1 if args.quick else 3)
    groups = [(section, jobs) for section, jobs in plan.groups(args.quick)
              if not args.section or section in args.section]

    results = {}
    records = []
    started = time.time()
    load_at_start = os.getloadavg()
    for round_index in range(rounds):
        for section, jobs in groups:
            # Alternate the order so neither side always runs first in a group.
            ordered = jobs if round_index % 2 == 0 else list(reversed(jobs))
            for job in ordered:
                if job.once and round_index > 0:
                    continue
                result, record = run_job(job)
                record['round'] = round_index
                records.append(record)
                status = 'ok' if result is not None else (
                    'TIMED OUT' if record['timed_out'] else 'FAILED (exit %s)' % record['exit'])
                sys.stderr.write('[%5.1fs] round %d %-12s %-36s %s\n' % (
                    time.time() - started, round_index + 1, section, job.key, status))
                if result is None:
                    sys.stderr.write(record.get('stderr', '')[-600:] + '\n')
                else:
                    results.setdefault(job.key, []).append(result)

    markdown, rows = report.table(results)
    header = ('pyfleet %s vs peers on %s (%d cores), %d round(s), %.0f s, load average '
              '%.1f at start, %.1f at end.' % (
                  'quick' if args.quick else 'full', platform.node(), os.cpu_count(),
                  rounds, time.time() - started, load_at_start[0], os.getloadavg()[0]))
    print(header)
    print()
    print(report.LEGEND)
    print()
    print(markdown)
    print()
    for line in report.notes(results):
        print('- ' + line)

    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = time.strftime('%Y%m%d-%H%M%S')
    path = os.path.join(RESULTS_DIR, 'compare-%s%s.json' % (stamp, '-quick' if args.quick else ''))
    with open(path, 'w') as out:
        json.dump({
            'started': started, 'rounds': rounds, 'quick': args.quick, 'header': header,
            'machine': {'node': platform.node(), 'cpus': os.cpu_count(),
                        'kernel': platform.release()},
            'rows': rows, 'runs': records,
        }, out, indent=1)
    print()
    print('raw results: %s' % os.path.relpath(path, plan.ROOT))
    failed = [r['key'] for r in records if 'result' not in r]
    if failed:
        print('failed jobs: %s' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
