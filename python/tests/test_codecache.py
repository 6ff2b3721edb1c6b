"""The compiled-code cache: written once, reused, and refused when not ours."""
import os
import shutil
import sys
import tempfile
import unittest

from pyfleet_core import codecache

TABLE = [(b'mod', b'pyfleet_core/mod.py', b'VALUE = 41 + 1\n', b'\x01')]


class CodeCacheTest(unittest.TestCase):

    def setUp(self):
        self.home = tempfile.mkdtemp()
        self.saved = os.environ.get('XDG_CACHE_HOME'), sys.dont_write_bytecode
        os.environ['XDG_CACHE_HOME'] = self.home
        sys.dont_write_bytecode = False

    def tearDown(self):
        if self.saved[0] is None:
            del os.environ['XDG_CACHE_HOME']
        else:
            os.environ['XDG_CACHE_HOME'] = self.saved[0]
        sys.dont_write_bytecode = self.saved[1]
        shutil.rmtree(self.home)

    def run_module(self, cache):
        namespace = {}
        exec(cache.compile('mod', TABLE[0][2], 'pyfleet_core/mod.py'), namespace)
        return namespace['VALUE']

    def test_written_once_then_reused(self):
        first = codecache.CodeCache(TABLE)
        self.assertEqual(self.run_module(first), 42)
        self.assertTrue(first.dirty)
        first.save()
        self.assertEqual(os.stat(first.path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(first.path)).st_mode & 0o777, 0o700)
        second = codecache.CodeCache(TABLE)
        self.assertIn('mod', second.codes)
        self.assertEqual(self.run_module(second), 42)
        self.assertFalse(second.dirty)

    def test_another_core_version_does_not_match(self):
        codecache.CodeCache(TABLE).save()
        first = codecache.CodeCache(TABLE)
        self.run_module(first)
        first.save()
        changed = [(b'mod', b'pyfleet_core/mod.py', b'VALUE = 1\n', b'\x01')]
        self.assertEqual(codecache.CodeCache(changed).codes, {})

    def test_a_new_core_replaces_the_old_file_for_the_same_interpreter(self):
        old = codecache.CodeCache(TABLE)
        self.run_module(old)
        old.save()
        changed = [(b'mod', b'pyfleet_core/mod.py', b'VALUE = 42\n', b'\x01')]
        new = codecache.CodeCache(changed)
        self.run_module(new)
        new.save()
        self.assertTrue(os.path.exists(new.path))
        self.assertFalse(os.path.exists(old.path))

    def test_writable_by_others_is_ignored(self):
        cache = codecache.CodeCache(TABLE)
        self.run_module(cache)
        cache.save()
        os.chmod(cache.path, 0o666)
        self.assertEqual(codecache.CodeCache(TABLE).codes, {})

    def test_nothing_written_without_bytecode_writing(self):
        sys.dont_write_bytecode = True
        cache = codecache.CodeCache(TABLE)
        self.run_module(cache)
        cache.save()
        self.assertFalse(os.path.exists(cache.path))

    def test_a_relative_cache_home_disables_caching(self):
        os.environ['XDG_CACHE_HOME'] = 'relative/dir'
        cache = codecache.CodeCache(TABLE)
        self.assertIsNone(cache.path)
        self.assertEqual(self.run_module(cache), 42)
        cache.save()
        self.assertFalse(os.path.exists('relative'))


if __name__ == '__main__':
    unittest.main()
