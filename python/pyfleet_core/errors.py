# pyfleet-core: on-demand
"""Exceptions turned into reports the parent can show: type, message, traceback.

Loaded only when something fails, so that the traceback module's import cost is not
paid at start-up. Frames of the shipped core run minified code; their line numbers
are mapped back to the real source lines here.
"""
import sys
import traceback

from pyfleet_core import compat

_BUILTIN_MODULES = ('builtins', 'exceptions', '__builtin__')


def type_name(exc_type):
    module = getattr(exc_type, '__module__', None)
    name = getattr(exc_type, '__qualname__', None) or exc_type.__name__
    if module in _BUILTIN_MODULES or not module:
        return name
    return '%s.%s' % (module, name)


def message(exc):
    for convert in (compat.text_type, repr):
        try:
            return convert(exc)
        except Exception:
            pass
    return '<unprintable %s object>' % (type(exc).__name__,)


def describe(exc_info, skip_frames=0):
    """(type name, message, traceback text) for `exc_info`; never raises."""
    exc_type, exc, tb = exc_info
    try:
        for _ in range(skip_frames):
            if tb is not None:
                tb = tb.tb_next
        text = ''.join(_format_chain(exc_type, exc, tb, set()))
    except Exception:
        text = 'Traceback unavailable: formatting it failed with %r\n' % (sys.exc_info()[1],)
    return type_name(exc_type), message(exc), text


def _format_chain(exc_type, exc, tb, seen):
    lines = []
    seen.add(id(exc))
    cause = getattr(exc, '__cause__', None)
    context = getattr(exc, '__context__', None)
    if cause is not None and id(cause) not in seen:
        lines += _format_chain(type(cause), cause, cause.__traceback__, seen)
        lines.append('\nThe above exception was the direct cause of the following '
                     'exception:\n\n')
    elif (context is not None and id(context) not in seen
          and not getattr(exc, '__suppress_context__', False)):
        lines += _format_chain(type(context), context, context.__traceback__, seen)
        lines.append('\nDuring handling of the above exception, another exception '
                     'occurred:\n\n')
    entries = [_real_location(entry) for entry in traceback.extract_tb(tb)]
    if entries:
        lines.append('Traceback (most recent call last):\n')
        lines += traceback.format_list(entries)
    lines += traceback.format_exception_only(exc_type, exc)
    return lines


def _real_location(entry):
    """Map a frame of the minified core back to its line in the real source."""
    filename, lineno, name = entry[0], entry[1], entry[2]
    import pyfleet_core
    shipped = getattr(pyfleet_core, '__sources__', {}).get(filename)
    if shipped is None:
        return entry
    source, linemap = shipped
    lines = source.splitlines()
    text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ''
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    real = compat.original_line(linemap, lineno)
    if compat.PY2:
        return (filename, real, name, text)
    return traceback.FrameSummary(filename, real, name, lookup_line=False, line=text)
