"""Import hooks installed at boot. They stay small: the work is done by on-demand
modules loaded the first time a hook fires."""
import sys


def _load(name):
    from pyfleet_core import load
    return load(name)


class Hook(object):
    """A finder whose work is done by the on-demand module `module` (its
    find_spec / find_module take the hook first); with `only` set, other names
    pass by without loading anything. `importer`, last on sys.meta_path, gets
    what the child cannot import itself; a second one, first in line, takes only
    the names the parent said must always come from it (`always_only`).
    `logforward`, first of all, sees `logging` imported and forwards its records
    to the parent with their levels."""

    def __init__(self, module, only=None, always_only=False):
        self.module = module
        self.only = only
        self.always_only = always_only

    def find_spec(self, fullname, path=None, target=None):
        if self.only and fullname != self.only:
            return None
        return _load(self.module).find_spec(self, fullname, path)

    def find_module(self, fullname, path=None):
        if self.only and fullname != self.only:
            return None
        return _load(self.module).find_module(self, fullname, path)


def install(always_from_parent=()):
    if 'logging' in sys.modules:
        # Imported before boot (by a .pth file or sitecustomize): forward from now.
        _load('logforward').install(sys.modules['logging'])
    else:
        sys.meta_path.insert(0, Hook('logforward', 'logging'))
    if always_from_parent:
        _load('importer').ALWAYS_FROM_PARENT.update(always_from_parent)
        sys.meta_path.insert(1, Hook('importer', always_only=True))
    sys.meta_path.append(Hook('importer'))
