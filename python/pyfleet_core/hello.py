"""HELLO: the child's own report of its effective configuration.

The parent compares it with what it asked for, so every fact here is read from the
running interpreter, never echoed from the request.
"""
import os
import sys

PROTOCOL_VERSION = 1

# sys.flags fields that are methods or counts of the struct sequence, not flags.
NOT_FLAGS = ('count', 'index', 'n_fields', 'n_sequence_fields', 'n_unnamed_fields')


def implementation():
    impl = getattr(sys, 'implementation', None)
    if impl is not None:
        return impl.name
    if '__pypy__' in sys.builtin_module_names:
        return 'pypy'
    return 'cpython'


def flags():
    result = {}
    for name in dir(sys.flags):
        if name.startswith('_') or name in NOT_FLAGS:
            continue
        value = getattr(sys.flags, name)
        if value is not None:
            result[name] = int(value) if isinstance(value, bool) else value
    return result


def _stream_encoding(stream):
    if stream is None:
        return None
    return (getattr(stream, 'encoding', None), getattr(stream, 'errors', None))


def encodings(stdio):
    result = {
        'filesystem': sys.getfilesystemencoding(),
        'filesystem_errors': getattr(sys, 'getfilesystemencodeerrors', lambda: None)(),
        'default': sys.getdefaultencoding(),
        'stdin': _stream_encoding(stdio[0]),
        'stdout': _stream_encoding(stdio[1]),
        'stderr': _stream_encoding(stdio[2]),
    }
    try:
        import _locale
        result['locale'] = _locale.nl_langinfo(_locale.CODESET)
    except Exception:
        result['locale'] = None
    return result


def facts(stdio, report_env=(), probes=()):
    """Everything the parent verifies, as plain marshal-able values."""
    uname = os.uname()
    result = {
        'protocol': PROTOCOL_VERSION,
        'version': tuple(sys.version_info[:3]) + (str(sys.version_info[3]), sys.version_info[4]),
        'version_text': sys.version,
        'implementation': implementation(),
        'executable': sys.executable,
        'prefix': sys.prefix,
        'base_prefix': getattr(sys, 'base_prefix', sys.prefix),
        'exec_prefix': sys.exec_prefix,
        'platform': sys.platform,
        'machine': uname[4],
        'hostname': uname[1],
        'pid': os.getpid(),
        'ppid': os.getppid(),
        'uid': os.getuid(),
        'euid': os.geteuid(),
        'gid': os.getgid(),
        'cwd': os.getcwd(),
        'umask': _umask(),
        'argv': list(sys.argv),
        'path': list(sys.path),
        'flags': flags(),
        'warnoptions': list(sys.warnoptions),
        'xoptions': dict(getattr(sys, '_xoptions', {})),
        'encodings': encodings(stdio),
        'maxsize': sys.maxsize,
        'env': dict((name, os.environ.get(name)) for name in report_env),
    }
    if probes:
        from pyfleet_core import load
        result['probes'] = load('probes').run(probes)
    return result


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
