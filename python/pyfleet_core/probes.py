# pyfleet-core: on-demand
"""Facts HELLO computes only when the parent asks, to verify a setting.

Each probe takes one argument (None when it needs none) and returns a plain value;
a probe that cannot run on this interpreter returns None.
"""
import os
import sys


def _stdout():
    return getattr(sys, '__stdout__', None)


def stdout_unbuffered(_):
    """-u: the text layer writes through (3.7+) or its binary layer is the raw
    file itself, with no buffer in between (3.0 - 3.6)."""
    stream = _stdout()
    if getattr(stream, 'write_through', False):
        return True
    binary = getattr(stream, 'buffer', None)
    return binary is not None and not hasattr(binary, 'raw')


def stdout_codec_matches(requested):
    import codecs
    actual = getattr(_stdout(), 'encoding', None)
    if not actual:
        return False
    return codecs.lookup(actual).name == codecs.lookup(requested).name


def stdout_errors(_):
    return getattr(_stdout(), 'errors', None)


def faulthandler(_):
    import faulthandler as module
    return module.is_enabled()


def tracemalloc_frames(_):
    import _tracemalloc
    return _tracemalloc.get_traceback_limit() if _tracemalloc.is_tracing() else 0


def xoption(name):
    value = getattr(sys, '_xoptions', {}).get(name)
    return True if value is True else value


def pycache_prefix(_):
    return getattr(sys, 'pycache_prefix', None)


def debug_ranges(_):
    positions = getattr(compile('x', '<probe>', 'eval'), 'co_positions', None)
    if positions is None:
        return None
    return any(p[2] is not None for p in positions())


def int_max_str_digits(_):
    getter = getattr(sys, 'get_int_max_str_digits', None)
    return getter() if getter else None


def perf(_):
    active = getattr(sys, 'is_stack_trampoline_active', None)
    return active() if active else None


def cpu_count(_):
    return os.cpu_count()


def gil_enabled(_):
    enabled = getattr(sys, '_is_gil_enabled', None)
    return enabled() if enabled else True


def platlibdir(_):
    return getattr(sys, 'platlibdir', None)


def cwd_is(path):
    try:
        return os.path.samefile(os.getcwd(), path)
    except OSError:
        return False


def _rlimit(name, index):
    import resource
    value = resource.getrlimit(getattr(resource, name))[index]
    return -1 if value == resource.RLIM_INFINITY else value


def rlimit_soft(name):
    return _rlimit(name, 0)


def rlimit_hard(name):
    return _rlimit(name, 1)


def run(requests):
    """[(name, argument)] -> [(name, argument, result)]."""
    results = []
    for name, argument in requests:
        probe = globals().get(str(name))
        try:
            value = probe(argument) if probe is not None and not str(name).startswith('_') else None
        except Exception:
            value = None
        results.append((name, argument, value))
    return results
