# pyfleet-core: on-demand
"""Records of the child's `logging` module, forwarded to the parent with their
levels as they are emitted.

Loaded when user code first imports logging: the standard loader runs, then a
handler is added to the root logger. basicConfig() keeps working: its level and
format apply, and the stderr handler it would add is left out, since every record
already reaches the parent through the forwarding handler.
"""
import sys

from pyfleet_core import compat, wire


def find_spec(hook, fullname, path):
    for finder in sys.meta_path:
        find = getattr(finder, 'find_spec', None)
        if finder is hook or find is None:
            continue
        spec = find(fullname, path)
        if spec is not None:
            spec.loader = _InstallAfter(spec.loader)
            return spec
    return None


def find_module(hook, fullname, path):
    """Python 2: imp finds the standard module, our loader installs afterwards."""
    import imp
    found = imp.find_module(fullname, path)
    return _Python2Loader(found)


class _InstallAfter(object):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        install(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Python2Loader(object):
    def __init__(self, found):
        self._found = found

    def load_module(self, fullname):
        import imp
        try:
            module = imp.load_module(fullname, *self._found)
        finally:
            if self._found[0] is not None:
                self._found[0].close()
        install(module)
        return module


def install(logging):
    package = sys.modules['pyfleet_core']

    class ForwardHandler(logging.Handler):
        def emit(self, record):
            try:
                conn = package.connection  # looked up each time: a fork replaces it
                text = self.format(record) if self.formatter else record.getMessage()
                if record.exc_info and not self.formatter:
                    text += '\n' + logging.Formatter().formatException(record.exc_info)
                conn.send_value(conn.parent_id, wire.LOG,
                                (record.levelno, compat.native(record.name), compat.to_bytes(text)))
            except Exception:
                self.handleError(record)

    handler = ForwardHandler()
    logging.root.addHandler(handler)
    original = logging.basicConfig

    def basicConfig(*args, **kwargs):
        logging.root.removeHandler(handler)
        try:
            original(*args, **kwargs)
        finally:
            for added in list(logging.root.handlers):
                if getattr(added, 'stream', None) in (sys.stdout, sys.stderr):
                    handler.setFormatter(added.formatter)
                    logging.root.removeHandler(added)
            logging.root.addHandler(handler)

    logging.basicConfig = basicConfig
