"""Source run like at the interactive prompt."""
import sys
import unittest

from pyfleet_core import execution


class ExecutionTest(unittest.TestCase):

    def test_expression(self):
        self.assertEqual(execution.run('1 + 1'), {'repr': '2', 'value': 2})

    def test_statements_then_expression(self):
        result = execution.run('pf_test_x = 20\npf_test_x + 1')
        self.assertEqual(result, {'repr': '21', 'value': 21})
        self.assertEqual(sys.modules['__main__'].__dict__['pf_test_x'], 20)

    def test_statements_only(self):
        self.assertEqual(execution.run('pf_test_y = 1'), {'repr': None, 'value': None})

    def test_unencodable_value_is_described(self):
        result = execution.run('object()')
        self.assertIsNone(result['value'])
        self.assertEqual(result['unencodable'], 'object')
        self.assertTrue(result['repr'].startswith('<object object'))

    def test_syntax_errors_propagate(self):
        self.assertRaises(SyntaxError, execution.run, 'def (')


if __name__ == '__main__':
    unittest.main()
