"""The prompt rules a hop applies: the same cases as crates/pyfleet/src/router/prompt.rs."""
import unittest

from pyfleet_core import prompts


def rules():
    return {
        'password_prompts': [u'password', u'Passwort: '],
        'failures': [
            {'text': u'Sorry, try again.', 'kind': u'Authentication'},
            {'text': u'is not in the sudoers file', 'kind': u'NotPermitted'},
        ],
        'unknown_prompt_ms': 1000,
    }


class PromptTest(unittest.TestCase):

    def test_a_prompt_split_over_reads_is_answered_once(self):
        watcher = prompts.Watcher(rules(), True)
        self.assertEqual(watcher.feed(b'[sudo] pass'), (prompts.WAIT, None))
        self.assertEqual(watcher.partial_line(), u'[sudo] pass')
        self.assertEqual(watcher.feed(b'word for pf: '), (prompts.TYPE_PASSWORD, None))
        self.assertEqual(watcher.partial_line(), u'')
        self.assertEqual(watcher.feed(b'\r\n'), (prompts.WAIT, None))
        kind, (failure, line) = watcher.feed(b'[sudo] password for pf: ')
        self.assertEqual((kind, failure), (prompts.FAILED, u'Authentication'))
        self.assertIn(u'again', line)

    def test_failures_win_over_a_following_prompt(self):
        watcher = prompts.Watcher(rules(), True)
        self.assertEqual(watcher.feed(b'Password: ')[0], prompts.TYPE_PASSWORD)
        verdict = watcher.feed(b'\r\nSorry, try again.\r\n[sudo] password for pf: ')
        self.assertEqual(verdict, (prompts.FAILED, (u'Authentication', u'sorry, try again.')))

    def test_escapes_and_carriage_returns_are_noise(self):
        watcher = prompts.Watcher(rules(), True)
        verdict = watcher.feed(b'\x1b[1m\x1b]0;title\x07PASS\x1b[0mWORD:\r ')
        self.assertEqual(verdict[0], prompts.TYPE_PASSWORD)
        self.assertEqual(prompts.normalise(b'a\x1b(Bb\x1b[?25lc\x00d\x7f'), u'abcd')
        self.assertEqual(prompts.normalise(b'x\x1b[12'), u'x')

    def test_a_completed_line_is_not_a_prompt_and_user_patterns_count(self):
        watcher = prompts.Watcher(rules(), True)
        self.assertEqual(watcher.feed(b'Password:\n')[0], prompts.WAIT)
        self.assertEqual(watcher.feed(b'Passwort:  ')[0], prompts.TYPE_PASSWORD)

    def test_without_a_password_a_prompt_is_reported(self):
        watcher = prompts.Watcher(rules(), False)
        self.assertEqual(watcher.feed(b'Password: '), (prompts.NEED_PASSWORD, u'password:'))

    def test_failures_name_their_line(self):
        text = prompts.normalise(b'x\npf is not in the sudoers file.  This incident\nmore')
        self.assertEqual(prompts.find_failure(rules()['failures'], text),
                         (u'NotPermitted', u'pf is not in the sudoers file.  this incident'))
        self.assertIsNone(prompts.find_failure(rules()['failures'], text, (u'HostKey',)))

    def test_redaction_hides_the_secret(self):
        self.assertEqual(prompts.redact(u'typed hunter2 here', u'hunter2'), u'typed *** here')
        self.assertEqual(prompts.redact(u'typed hunter2', u'HUNTER2'), u'typed ***')
        self.assertEqual(prompts.redact(u'x', u''), u'x')


if __name__ == '__main__':
    unittest.main()
