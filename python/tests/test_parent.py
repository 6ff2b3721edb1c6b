"""Pieces of a hop that need no child: request parsing, environments, the queue."""
import marshal
import os
import unittest

from pyfleet_core import compat, parent


class RequestTextTest(unittest.TestCase):

    def test_marshalled_strings_of_every_kind_are_read(self):
        for value in (u'demo_pkg.api', u'd\xe9mo', b'demo_pkg'):
            for version in (0, 2, 4):
                data = marshal.dumps(value, version)
                expected = compat.native(value.decode('utf-8') if isinstance(value, bytes) else value)
                self.assertEqual(parent.request_text(data), expected, (value, version))

    def test_anything_else_is_refused_without_unmarshalling(self):
        for data in (b'', b'u', marshal.dumps(5), marshal.dumps((u'a',)), b'u\x05\x00\x00\x00ab',
                     b'u\xff\xff\xff\xffab', b'u\x02\x00\x00\x00\xff\xfe', b'c' + b'\x00' * 40):
            self.assertIsNone(parent.request_text(data), data)


class EnvironmentTest(unittest.TestCase):

    def setUp(self):
        self.saved = dict(os.environ)
        os.environ['PYTHONFAKE'] = '1'
        os.environ['PF_KEEP'] = 'k'

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved)

    def test_python_variables_stay_behind_unless_kept(self):
        env = parent.environment({'keep_python_vars': False, 'set': [(u'PF_NEW', u'n')],
                                  'unset': [u'PF_KEEP']})
        self.assertNotIn('PYTHONFAKE', env)
        self.assertNotIn('PF_KEEP', env)
        self.assertEqual(env['PF_NEW'], 'n')
        env = parent.environment({'keep_python_vars': True, 'set': []})
        self.assertEqual(env['PYTHONFAKE'], '1')

    def test_only_keeps_just_the_names_given(self):
        env = parent.environment({'keep_python_vars': False, 'set': [],
                                  'only': [u'PYTHONFAKE']})
        self.assertEqual(env, {'PYTHONFAKE': '1'})


class QueueTest(unittest.TestCase):

    def test_items_come_out_in_order_across_threads(self):
        queue = parent.Queue()
        out = parent.Queue()

        def consume():
            while True:
                item = queue.get()
                out.put(item)
                if item is None:
                    return
        compat.start_thread(consume, ())
        for item in range(100):
            queue.put(item)
        queue.put(None)
        got = []
        while True:
            item = out.get()
            if item is None:
                break
            got.append(item)
        self.assertEqual(got, list(range(100)))


if __name__ == '__main__':
    unittest.main()
