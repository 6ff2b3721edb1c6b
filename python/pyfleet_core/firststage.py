# pyfleet-core: on-demand
"""What no interpreter option can express, applied before HELLO and before any
user code: sys.path, sys.argv, working directory, umask, resource limits.

The parent lowered these from its StartupConfig (crates/pyfleet/src/startup);
HELLO then reports the result, which the parent compares with what it asked.
"""
import os
import sys


def apply(stage):
    """Apply `stage` (a dict). Sent only to children whose plan has such steps."""
    if stage.get('sys_path') is not None:
        sys.path[:] = list(stage['sys_path'])
    if stage.get('argv') is not None:
        sys.argv[:] = list(stage['argv'])
    if stage.get('cwd') is not None:
        os.chdir(stage['cwd'])
    if stage.get('umask') is not None:
        os.umask(stage['umask'])
    limits = stage.get('rlimits') or []
    if limits:
        import resource
        for name, soft, hard in limits:
            which = getattr(resource, name)
            current = resource.getrlimit(which)
            resource.setrlimit(which, (_limit(soft, current[0], resource), _limit(hard, current[1], resource)))


def _limit(value, current, resource):
    """-2 keeps the current limit, -1 means unlimited."""
    if value == -2:
        return current
    if value == -1:
        return resource.RLIM_INFINITY
    return value
