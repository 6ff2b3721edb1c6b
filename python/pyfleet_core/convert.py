# pyfleet-core: on-demand
"""Plain values for results marshal refuses.

marshal accepts only the exact built-in types. Results are often subclasses of them
(OrderedDict, namedtuple, os.stat_result, IntEnum, str subclasses): those are
converted to their base type here. Loaded only when marshal has refused a value,
so the common path pays nothing.
"""
from pyfleet_core import compat

# Each level costs a couple of Python frames; this stays well inside the default
# recursion limit (1000) so the error names the depth instead of overflowing.
MAX_DEPTH = 200


class Unencodable(Exception):
    """args: (location, type name) of the first value that cannot be converted."""


def _scalar_types():
    types = [bool, float, bytes, compat.text_type] + list(compat.integer_types)
    if compat.PY2:
        types.append(str)
    return tuple(types)


SCALARS = _scalar_types()


def plain(value, location='result', depth=0):
    """`value` with every supported subclass replaced by its base type."""
    if depth > MAX_DEPTH:
        raise Unencodable(location, 'nesting deeper than %d levels' % MAX_DEPTH)
    if value is None or type(value) in SCALARS:
        return value
    if isinstance(value, bool):
        return bool(value)
    for base in compat.integer_types:
        if isinstance(value, base):
            return base(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, compat.text_type):
        return compat.text_type(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        return dict((plain(k, '%s key %r' % (location, k), depth + 1),
                     plain(v, '%s[%r]' % (location, k), depth + 1))
                    for k, v in value.items())
    # Struct sequences (os.stat_result, time.struct_time) are tuples on Python 3,
    # tuple-like but not tuples on Python 2.
    if isinstance(value, (tuple, list)) or hasattr(type(value), 'n_sequence_fields'):
        items = [plain(item, '%s[%d]' % (location, i), depth + 1)
                 for i, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (set, frozenset)):
        items = [plain(item, '%s item' % (location,), depth + 1) for item in value]
        return set(items) if isinstance(value, set) else frozenset(items)
    raise Unencodable(location, type(value).__name__)
