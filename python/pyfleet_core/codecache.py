"""Compiled core code kept between starts of the same interpreter.

Compiling the core costs a few milliseconds per child; loading the same code with
marshal costs a tenth of a millisecond. The cache is one file per core version
and interpreter in the user's cache directory, used only when the directory and
the file belong to this effective user and no one else can write them (a child
started as root with another user's HOME must not run that user's code).
Nothing is written when bytecode writing is off (-B, PYTHONDONTWRITEBYTECODE).
"""
import marshal
import os
import sys
import zlib


def _tag():
    impl = getattr(sys, 'implementation', None)
    tag = getattr(impl, 'cache_tag', None) or 'py%d%d' % sys.version_info[:2]
    return '%s-%08x' % (tag, zlib.adler32(sys.version.encode('utf-8')) & 0xffffffff)


def _directory():
    """The cache directory, or None when there is no absolute one to use."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'pyfleet') if os.path.isabs(base) else None


def _private(path):
    """True if `path` belongs to us and only we can write it."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


class CodeCache(object):
    """Code objects by module name for one core version on one interpreter."""

    def __init__(self, table):
        digest = 1
        for row in table:
            digest = zlib.adler32(row[2], digest)
        directory = _directory()
        self.path = directory and os.path.join(directory, 'core-%08x-%s.bin' % (digest & 0xffffffff, _tag()))
        self.codes = {}
        self.dirty = False
        if self.path and _private(directory) and _private(self.path):
            try:
                with open(self.path, 'rb') as f:
                    self.codes = marshal.loads(f.read())
            except Exception:
                self.codes = {}

    def compile(self, name, source, filename):
        code = self.codes.get(name)
        if code is None:
            code = compile(source, filename, 'exec')
            self.codes[name] = code
            self.dirty = True
        return code

    def save(self):
        """Write new code, atomically; any failure just leaves the cache as it was."""
        if not self.dirty or not self.path or sys.dont_write_bytecode:
            return
        self.dirty = False
        directory = os.path.dirname(self.path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            if not _private(directory):
                return
            temporary = '%s.%d.tmp' % (self.path, os.getpid())
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, marshal.dumps(self.codes))
            finally:
                os.close(fd)
            os.rename(temporary, self.path)
            # Code of older cores for this interpreter will not be asked for again.
            mine = os.path.basename(self.path)
            tag = mine.split('-', 2)[2]
            for other in os.listdir(directory):
                if other.startswith('core-') and other.endswith(tag) and other != mine:
                    os.unlink(os.path.join(directory, other))
        except Exception:
            pass
