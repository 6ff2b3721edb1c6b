"""Exception reports: names, messages, tracebacks, line maps."""
import sys
import unittest

from pyfleet_core import errors


def raise_value_error():
    raise ValueError('bad value')


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError('no')

    def __repr__(self):
        raise RuntimeError('no')


class ErrorsTest(unittest.TestCase):

    def describe(self, function):
        try:
            function()
        except Exception:
            return errors.describe(sys.exc_info())
        self.fail('did not raise')

    def test_builtin_type_names_are_short(self):
        type_name, message, text = self.describe(raise_value_error)
        self.assertEqual(type_name, 'ValueError')
        self.assertEqual(message, 'bad value')
        self.assertTrue(text.startswith('Traceback (most recent call last):\n'))
        self.assertIn('raise_value_error', text)
        self.assertTrue(text.endswith('ValueError: bad value\n'))

    def test_other_types_are_qualified(self):
        def raise_custom():
            raise Unprintable()
        type_name, message, text = self.describe(raise_custom)
        self.assertTrue(type_name.endswith('Unprintable'))
        self.assertIn('.', type_name)
        self.assertEqual(message, '<unprintable Unprintable object>')

    def test_skipping_frames(self):
        try:
            raise_value_error()
        except ValueError:
            full = errors.describe(sys.exc_info())[2]
            skipped = errors.describe(sys.exc_info(), skip_frames=1)[2]
        self.assertIn('test_skipping_frames', full)
        self.assertNotIn('test_skipping_frames', skipped)

    def test_line_map_decoding(self):
        # Gaps 1, 2, 297 (varint a9 02): minified lines 1..3 are lines 1, 3, 300.
        linemap = b'\x01\x02\xa9\x02'
        from pyfleet_core import compat
        self.assertEqual([compat.original_line(linemap, n) for n in (1, 2, 3)], [1, 3, 300])
        self.assertEqual(compat.original_line(linemap, 9), 9)


if __name__ == '__main__':
    unittest.main()
