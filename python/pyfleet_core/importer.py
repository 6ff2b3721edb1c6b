# pyfleet-core: on-demand
"""Modules the child does not have, sent by its parent.

The parent answers a request for a module with it and the other modules of its
package (saving a round trip per import), or with None when it has no such module;
both answers are cached, so each name costs at most one round trip. Sources keep
the parent's file names, so tracebacks name the real files and lines.
"""
import os
import sys
import zlib

from pyfleet_core import compat, wire

# Top-level names imported from the parent even when the child has its own copy.
ALWAYS_FROM_PARENT = set()

# Full name -> (file name, zlib-compressed source, is package), or None for "no such
# module at the parent".
_known = {}

# A served package's __path__ entry: its directory at the parent, in a form no
# filesystem finder accepts, so its submodules come from the parent too (as they
# must for a child on another machine) even where the directory happens to exist.
PARENT_PATH_PREFIX = 'pyfleet-parent:'


def package_path(filename):
    return [PARENT_PATH_PREFIX + os.path.dirname(filename)]


def _connection():
    return sys.modules['pyfleet_core'].connection


def lookup(fullname):
    """The parent's answer for `fullname`, asking at most once."""
    if fullname in _known:
        return _known[fullname]
    try:
        answer = _connection().request(wire.GET_MODULE, fullname)
    except wire.RequestFailed as exc:
        raise ImportError(exc.args[1] if len(exc.args) > 1 else str(exc))
    _known[fullname] = None
    for name, filename, compressed, is_package in answer or ():
        if not isinstance(filename, str):
            filename = filename.decode('utf-8')
        _known[compat.native(name)] = (filename, compressed, is_package)
    return _known[fullname]


def _wanted(fullname, always_only):
    return not always_only or fullname.split('.')[0] in ALWAYS_FROM_PARENT


def find_spec(hook, fullname, path):
    if not _wanted(fullname, hook.always_only) or lookup(fullname) is None:
        return None
    from importlib.machinery import ModuleSpec
    filename, _, is_package = _known[fullname]
    spec = ModuleSpec(fullname, Loader(fullname), origin=filename, is_package=is_package)
    spec.has_location = True
    if is_package:
        spec.submodule_search_locations = package_path(filename)
    return spec


def find_module(hook, fullname, path):
    """Python 2's finder protocol."""
    if not _wanted(fullname, hook.always_only) or lookup(fullname) is None:
        return None
    return Loader(fullname)


class Loader(object):
    """Loads a module sent by the parent (both loader protocols)."""

    def __init__(self, fullname):
        self.fullname = fullname

    def _entry(self, fullname):
        entry = _known.get(fullname)
        if entry is None:
            raise ImportError('no module named %s at the parent' % (fullname,))
        return entry

    def get_filename(self, fullname):
        return self._entry(fullname)[0]

    def is_package(self, fullname):
        return self._entry(fullname)[2]

    def get_source(self, fullname):
        return zlib.decompress(self._entry(fullname)[1]).decode('utf-8')

    def get_code(self, fullname):
        filename, compressed, _ = self._entry(fullname)
        return compile(zlib.decompress(compressed), filename, 'exec', 0, True)

    def get_data(self, path):
        """Files of a package (pkgutil.get_data), read by the parent from its roots."""
        try:
            return _connection().request(wire.GET_DATA, path)
        except wire.RequestFailed as exc:
            raise IOError(2, exc.args[1] if len(exc.args) > 1 else str(exc), path)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)

    def load_module(self, fullname):
        """Python 2: create, register, run."""
        filename, _, is_package = self._entry(fullname)
        module = sys.modules.get(fullname)
        if module is None:
            module = type(sys)(fullname)
            sys.modules[fullname] = module
        module.__file__ = filename
        module.__loader__ = self
        if is_package:
            module.__path__ = package_path(filename)
            module.__package__ = fullname
        else:
            module.__package__ = fullname.rpartition('.')[0]
        try:
            exec(self.get_code(fullname), module.__dict__)
        except BaseException:
            sys.modules.pop(fullname, None)
            raise
        return sys.modules[fullname]
