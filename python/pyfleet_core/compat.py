"""Small shims so one code base runs on Python 2.7 and 3.6+."""
import sys

PY2 = sys.version_info[0] == 2

if PY2:
    text_type = unicode  # noqa: F821 (Python 2 only)
    integer_types = (int, long)  # noqa: F821
    import thread as _thread  # noqa: F401
else:
    text_type = str
    integer_types = (int,)
    import _thread  # noqa: F401

allocate_lock = _thread.allocate_lock
start_thread = _thread.start_new_thread


def to_bytes(data):
    """Text as UTF-8 bytes; bytes unchanged (Python 2 `str` is bytes)."""
    if isinstance(data, text_type):
        return data.encode('utf-8', 'replace')
    return bytes(data)


def native(text):
    """A name as the native str type (Python 2 receives unicode)."""
    if PY2 and isinstance(text, text_type):
        return text.encode('utf-8')
    if not PY2 and isinstance(text, bytes):
        return text.decode('utf-8')
    return text


def set_cloexec(fd):
    """Python 3 creates fds non-inheritable; Python 2 needs it said."""
    if PY2:
        import fcntl
        flags = fcntl.fcntl(fd, fcntl.F_GETFD)
        fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)


def original_line(linemap, lineno):
    """The source line of minified line `lineno`: `linemap` holds, per minified
    line, the gap from the previous original line as a varint."""
    original = 0
    index = 0
    pos = 0
    data = bytearray(linemap)
    while pos < len(data) and index < lineno:
        value = 0
        shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7f) << shift
            shift += 7
            if not byte & 0x80:
                break
        original += value
        index += 1
    return original if index == lineno else lineno
