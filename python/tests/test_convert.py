"""Subclasses of supported types become their plain base types."""
import collections
import marshal
import os
import unittest

from pyfleet_core import convert


class ConvertTest(unittest.TestCase):

    def test_subclasses_become_base_types(self):
        Point = collections.namedtuple('Point', 'x y')
        value = collections.OrderedDict([('p', Point(1, 2)), ('s', os.stat('/'))])
        plain = convert.plain(value)
        self.assertEqual(type(plain), dict)
        self.assertEqual(plain['p'], (1, 2))
        self.assertEqual(type(plain['p']), tuple)
        self.assertEqual(type(plain['s']), tuple)
        marshal.dumps(plain, 2)

    def test_bytearray_and_sets(self):
        self.assertEqual(convert.plain(bytearray(b'ab')), b'ab')
        self.assertEqual(convert.plain(set([1])), set([1]))

    def test_unconvertible_values_are_located(self):
        try:
            convert.plain({'a': [1, object()]})
        except convert.Unencodable as exc:
            self.assertEqual(exc.args, ("result['a'][1]", 'object'))
        else:
            self.fail('object() was converted')

    def test_nesting_is_bounded(self):
        deep = []
        node = deep
        for _ in range(convert.MAX_DEPTH + 5):
            node.append([])
            node = node[0]
        self.assertRaises(convert.Unencodable, convert.plain, deep)


if __name__ == '__main__':
    unittest.main()
