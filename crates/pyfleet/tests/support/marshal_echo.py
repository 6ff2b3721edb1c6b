"""Marshal echo server for the wire tests (stdlib only; Python 2.7 and 3.6+).

Requests on stdin, replies on stdout, all lengths little-endian u32:

    request:  op (1 byte) + length + payload
    reply:    status (b'+' ok, b'!' error) + length + data

Ops:
    E  payload is a marshal blob: reply with marshal.dumps(marshal.loads(blob), 2)
    S  payload is a u32 marshal version (0xFFFFFFFF: marshal.version): reply with
       the samples below, dumped by this interpreter at that version
    I  reply with marshal.dumps((major, minor, implementation, marshal.version), 2)
    C  reply with a code object, marshalled (which the Rust side must refuse)

Run as `marshal_echo.py seeds DIR` it instead writes the samples, dumped at every
version this interpreter has, as files into DIR (seed inputs for the fuzzer).
"""

import marshal
import os
import struct
import sys

U32 = struct.Struct('<I')
LATEST = 0xFFFFFFFF


def samples():
    """Values as this interpreter makes them natively, as (name, value) pairs."""
    try:
        long_type = long  # noqa: F821 (Python 2)
    except NameError:
        long_type = int
    shared = [1.5, u'abc', (2, 3)]
    return [
        # Python 2 interns these keys and values: 't' first, 'R' after.
        ('interned_keys', [{'name': 'a', 'size': 1}, {'name': 'b', 'size': 2}]),
        ('big_ints', [
            2 ** 200, -(2 ** 200), 2 ** 63, -(2 ** 63) - 1, 2 ** 64 - 1,
            2 ** 31, -(2 ** 31) - 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 62),
            long_type(0), long_type(5), long_type(-7),
        ]),
        ('nested_sets', [
            set([frozenset([1, 2]), frozenset(), (3, frozenset([4]))]),
            frozenset([frozenset([frozenset()])]),
        ]),
        ('floats', [-0.0, float('nan'), float('inf'), float('-inf'), 0.1, 1e300, 5e-324]),
        ('text', [u'caf\xe9', u'\U0001F600', u'', b'raw\xff', b'', u'a\x00b']),
        # Marshal 3+ writes the second and third occurrence as references.
        ('shared', [shared, shared, (shared,)]),
        ('containers', ((), [], {}, set(), frozenset(), {(1, 2): [None, True, False]})),
    ]


def implementation():
    impl = getattr(sys, 'implementation', None)
    if impl is not None:
        return impl.name
    return 'pypy' if 'PyPy' in sys.version else 'cpython'


def read_exactly(n):
    chunks = []
    while n > 0:
        chunk = os.read(0, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def write_all(data):
    view = memoryview(data)
    while len(view):
        written = os.write(1, view)
        view = view[written:]


def reply(status, data):
    write_all(status + U32.pack(len(data)) + data)


def handle(op, payload):
    if op == b'E':
        return marshal.dumps(marshal.loads(payload), 2)
    if op == b'S':
        version = U32.unpack(payload)[0]
        if version == LATEST:
            version = marshal.version
        return marshal.dumps(samples(), version)
    if op == b'C':
        return marshal.dumps(compile('x + 1', '<pyfleet>', 'eval'), 2)
    if op == b'I':
        info = (sys.version_info[0], sys.version_info[1], implementation(), marshal.version)
        return marshal.dumps(info, 2)
    raise ValueError('unknown op %r' % (op,))


def serve():
    while True:
        head = read_exactly(5)
        if head is None:
            return
        op = head[0:1]
        payload = read_exactly(U32.unpack(head[1:5])[0])
        if payload is None:
            return
        try:
            data = handle(op, payload)
        except Exception as error:  # reported to the test, which decides
            reply(b'!', ('%s: %s' % (type(error).__name__, error)).encode('utf-8'))
        else:
            reply(b'+', data)


def write_seeds(directory):
    tag = '%s%d%d' % (implementation(), sys.version_info[0], sys.version_info[1])
    for version in range(marshal.version + 1):
        for name, value in samples():
            path = os.path.join(directory, 'ok-%s-%s-v%d.bin' % (tag, name, version))
            with open(path, 'wb') as out:
                out.write(marshal.dumps(value, version))


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'seeds':
        write_seeds(sys.argv[2])
    else:
        serve()
