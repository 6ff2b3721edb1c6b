"""HELLO facts: complete and marshal-able on every interpreter."""
import marshal
import os
import sys
import unittest

from pyfleet_core import hello


class HelloTest(unittest.TestCase):

    def test_facts_are_marshalable_and_true(self):
        facts = hello.facts((sys.stdin, sys.stdout, sys.stderr))
        marshal.dumps(facts, 2)
        self.assertEqual(facts['pid'], os.getpid())
        self.assertEqual(facts['version'][:3], tuple(sys.version_info[:3]))
        self.assertEqual(facts['path'], sys.path)
        self.assertIn(facts['implementation'], ('cpython', 'pypy'))
        self.assertIn('optimize', facts['flags'])
        self.assertEqual(facts['umask'], hello._umask())


if __name__ == '__main__':
    unittest.main()
