"""What every peer measurement shares: the interpreter, bounded runs, and one JSON
line of output in the same shape pyfleet-bench prints."""
import argparse
import json
import os
import signal
import statistics
import sys

# The interpreter every child runs, whichever library starts it.
PYTHON = '/usr/bin/python3.11'


def summary(samples):
    return {
        'samples': samples,
        'n': len(samples),
        'best': min(samples),
        'median': statistics.median(samples),
    }


def emit(report, samples):
    """Print `report` plus the summary of `samples` as one JSON line."""
    report = dict(report)
    report.update(summary(samples))
    emit_fields(report)


def emit_fields(report):
    """Print `report` as one JSON line."""
    sys.stdout.write(json.dumps(report) + '\n')
    sys.stdout.flush()


def arm_deadline(seconds):
    """SIGALRM's default action ends the process; the libraries' children notice
    their input closing and exit too, so a hang never outlives the run."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(seconds)


def clean_environ():
    """The master's environment without PYTHON* variables, as pyfleet gives its
    children (this machine exports PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE)."""
    return {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}


def vm_rss(pid='self'):
    """VmRSS of a process in bytes."""
    with open('/proc/%s/status' % (pid,)) as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('no VmRSS for %s' % (pid,))


def parser(description):
    """An argument parser with the options every peer script takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--deadline-secs', type=int, default=120)
    return p


def parse(p):
    args = p.parse_args()
    arm_deadline(args.deadline_secs)
    return args
