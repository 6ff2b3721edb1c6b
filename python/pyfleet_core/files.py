# pyfleet-core: on-demand
"""File transfer: push (the parent sends a file here) and pull (this child sends one).

Both move the file in chunks over a channel with a credit window, so memory stays
bounded whatever its size, and both checksum it on the way (SHA-256, or CRC-32
when the parent asks for speed over tamper-evidence). A pushed file
is written to a temporary file beside its destination and renamed over it only
once its digest matches the parent's: a failed or interrupted transfer never
leaves a half file at the destination. This side opens only the path the parent
names in the call.
"""
import binascii
import hashlib
import os
import stat
import zlib

from pyfleet_core import compat, load

# One frame per chunk: a channel frame holds CHUNK bytes of marshal data, and a
# bytes value's marshal header is 5 bytes.
CHUNK = load('channels').CHUNK - 5

_O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)


class _Crc32(object):
    """zlib.crc32 behind hashlib's update/hexdigest."""

    def __init__(self):
        self.value = 0

    def update(self, data):
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self):
        return '%08x' % (self.value & 0xffffffff)


def _checksum(name):
    if name == 'crc32':
        return _Crc32()
    if name == 'sha256':
        return hashlib.sha256()
    raise ValueError('unknown checksum %r (sha256 or crc32)' % (name,))


class TransferError(Exception):
    """The transfer cannot be trusted: the file changed, or the digests differ."""


def _os_error(exc, action, path):
    """The same OSError type (PermissionError, ...) with the destination named."""
    return OSError(exc.errno, 'cannot %s %s: %s' % (action, path, exc.strerror))


def _temporary(directory, base):
    for _ in range(100):
        suffix = binascii.hexlify(os.urandom(4)).decode('ascii')
        name = os.path.join(directory, '.%s.pyfleet-%s.part' % (base, suffix))
        try:
            return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno != 17:  # EEXIST: try another name
                raise
    raise TransferError('no free temporary name in %s' % directory)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def receive(inp, path, mode, checksum='sha256'):
    """Write what arrives on `inp` to `path`: bytes chunks, then the checksum of
    the whole (hex text). Returns {'size', 'digest'}."""
    path = compat.native(path)
    base = os.path.basename(path)
    if not base or os.path.isdir(path):
        raise TransferError('%s is a directory; push needs the file name to write' % path)
    try:
        temporary, fd = _temporary(os.path.dirname(path) or '.', base)
    except OSError as exc:
        raise _os_error(exc, 'write', path)
    digest = _checksum(checksum)
    size = 0
    expected = None
    try:
        try:
            for item in inp:
                if isinstance(item, bytes):
                    view = memoryview(item) if not compat.PY2 else item
                    while view:
                        view = view[os.write(fd, view):]
                    digest.update(item)
                    size += len(item)
                else:
                    expected = item
            if expected is None:
                raise TransferError('the transfer to %s was interrupted after %d bytes; '
                                    'nothing was written there' % (path, size))
            if digest.hexdigest() != expected:
                raise TransferError('%s: %s of the %d bytes received is %s, the sender '
                                    'sent %s; nothing was written there'
                                    % (path, checksum, size, digest.hexdigest(), expected))
            os.fchmod(fd, mode & 0o7777)
        finally:
            os.close(fd)
        os.rename(temporary, path)
    except OSError as exc:
        _unlink(temporary)
        raise _os_error(exc, 'write', path)
    except BaseException:
        _unlink(temporary)
        raise
    return {'size': size, 'digest': expected}


def _identity(st):
    return (st.st_dev, st.st_ino, st.st_size, getattr(st, 'st_mtime_ns', st.st_mtime))


def send(out, path, checksum='sha256', chunk=CHUNK):
    """Send the file at `path` on `out` in chunks. Returns {'mode', 'size',
    'digest'}; fails if the file changed, moved or disappeared meanwhile."""
    path = compat.native(path)
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    except OSError as exc:
        raise _os_error(exc, 'read', path)
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise TransferError('%s is not a regular file' % path)
        digest = _checksum(checksum)
        size = 0
        chunk = max(1, min(int(chunk), CHUNK))
        while True:
            data = os.read(fd, chunk)
            if not data:
                break
            out.send(data)
            digest.update(data)
            size += len(data)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    try:
        now = os.stat(path)
    except OSError:
        raise TransferError('%s disappeared during the transfer' % path)
    if _identity(now)[:2] != _identity(before)[:2]:
        raise TransferError('%s was replaced by another file during the transfer' % path)
    if _identity(after) != _identity(before) or size != before.st_size:
        raise TransferError('%s changed during the transfer (%d bytes at the start, %d '
                            'read, %d now)' % (path, before.st_size, size, after.st_size))
    return {'mode': stat.S_IMODE(before.st_mode), 'size': size, 'digest': digest.hexdigest()}
