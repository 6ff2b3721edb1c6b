"""Writes the fuzzers' seed inputs into fuzz/seeds/ (stdlib only; Python 2.7 and 3.6+).

    python3 fuzz/make_seeds.py [PYTHON ...]

Each PYTHON dumps the values of crates/pyfleet/tests/support/marshal_echo.py at every
marshal version it has (files named ok-*: they must decode). This script adds inputs
that must be refused (bad-*). crates/pyfleet/tests/wire_fuzz_seeds.rs replays them
all as regression tests; inputs the fuzzer finds are added there by hand, named
after what they exercise.
"""

import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, 'seeds')
ECHO = os.path.join(HERE, '..', 'crates', 'pyfleet', 'tests', 'support', 'marshal_echo.py')


def i32(n):
    return struct.pack('<i', n)


def nested_lists(levels):
    return b'[\x01\x00\x00\x00' * levels + b'N'


def amplification(levels):
    body = b'(' + i32(levels) + b'\xdb' + i32(10) + b'N' * 10
    for level in range(1, levels):
        body += b'\xdb' + i32(10) + (b'r' + i32(level - 1)) * 10
    return body


BAD = {
    'code-object': b'c' + b'\x00' * 16,
    'code-object-flagged': b'\xe3' + b'\x00' * 16,
    'complex': b'y' + struct.pack('<dd', 1.0, 2.0),
    'ellipsis': b'.',
    'stopiteration': b'S',
    'slice': b':NNN',
    'unknown-code': b'\x07',
    'truncated-int': b'i\x01\x00',
    'truncated-list': b'[\x02\x00\x00\x00N',
    'negative-length': b's\xff\xff\xff\xff',
    'absurd-length': b'[\xff\xff\xff\x7f',
    'absurd-long': b'l' + i32(-2 ** 31),
    'long-digit-out-of-range': b'l' + i32(1) + b'\x00\x80',
    'lone-surrogate': b'u' + i32(3) + b'\xed\xa0\x80',
    'invalid-utf8': b'u' + i32(2) + b'a\xff',
    'bad-text-float': b'f\x041.5x',
    'trailing-bytes': b'NN',
    'null-outside-dict': b'[\x01\x00\x00\x000',
    'dict-ends-after-key': b'{N0',
    'invalid-ref': b'r' + i32(0),
    'recursive-ref': b'\xdb' + i32(1) + b'r' + i32(0),
    'invalid-string-ref': b'R' + i32(0),
    'too-deep': nested_lists(513),
    'ref-amplification': amplification(12),
    'interned-amplification': b'(' + i32(2) + b't' + i32(1000) + b'x' * 1000
        + b'[' + i32(200) + (b'R' + i32(0)) * 200,
}

OK = {
    'deep-at-limit': nested_lists(512),
    'small-refs': b'(' + i32(2) + b'\xdb' + i32(2) + b'NN' + b'\xdb' + i32(2) + (b'r' + i32(0)) * 2,
    'call-tuple': b'(' + i32(4) + b'u' + i32(2) + b'osu' + i32(6) + b'getpid(' + i32(0) + b'{0',
}


def write(name, data):
    with open(os.path.join(SEEDS, name), 'wb') as out:
        out.write(data)


def main(pythons):
    if not os.path.isdir(SEEDS):
        os.makedirs(SEEDS)
    for name, data in BAD.items():
        write('bad-%s.bin' % name, data)
    for name, data in OK.items():
        write('ok-%s.bin' % name, data)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('PYTHON'))
    for python in pythons:
        subprocess.check_call([python, '-E', '-S', ECHO, 'seeds', SEEDS], env=env)


if __name__ == '__main__':
    main(sys.argv[1:])
