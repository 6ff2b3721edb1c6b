"""sys.stdout / sys.stderr forwarding: buffering and ordering."""
import unittest

from pyfleet_core import output


class RecordingConnection(object):
    """Stands in for wire.Connection: records what would be sent."""

    def __init__(self):
        self.sent = []

    def send_value(self, dst, handle, obj):
        self.sent.append((dst, handle, obj))


class OutputTest(unittest.TestCase):

    def setUp(self):
        self.conn = RecordingConnection()
        self.output = output.Output(self.conn, 0)
        self.stdout = output.TextStream(self.output, output.STDOUT, 1)
        self.stderr = output.TextStream(self.output, output.STDERR, 2)

    def test_complete_lines_go_at_once(self):
        self.stdout.write(u'hello\n')
        self.assertEqual(self.conn.sent, [(0, 3, (1, b'hello\n'))])

    def test_partial_lines_wait_for_a_flush(self):
        self.stdout.write(u'par')
        self.stdout.write(u'tial')
        self.assertEqual(self.conn.sent, [])
        self.stdout.flush()
        self.assertEqual(self.conn.sent, [(0, 3, (1, b'partial'))])

    def test_switching_streams_keeps_the_order(self):
        self.stdout.write(u'a')
        self.stderr.write(u'b')
        self.stdout.write(u'c\n')
        self.output.flush()
        streams = [(sent[2][0], sent[2][1]) for sent in self.conn.sent]
        self.assertEqual(streams, [(1, b'a'), (2, b'b'), (1, b'c\n')])

    def test_bytes_through_buffer_and_text_encoding(self):
        self.stdout.buffer.write(b'\xff\n')
        self.stdout.write(u'\xe9\n')
        self.assertEqual([s[2][1] for s in self.conn.sent], [b'\xff\n', u'\xe9\n'.encode('utf-8')])

    def test_large_partial_output_is_sent_without_a_newline(self):
        self.stdout.write(u'x' * output.FLUSH_SIZE)
        self.assertEqual(len(self.conn.sent), 1)

    def test_file_like_surface(self):
        self.assertFalse(self.stdout.isatty())
        self.assertEqual(self.stdout.fileno(), 1)
        self.assertEqual(self.stderr.fileno(), 2)
        self.assertTrue(self.stdout.writable())
        self.stdout.writelines([u'a\n', u'b\n'])
        self.assertEqual(len(self.conn.sent), 2)


if __name__ == '__main__':
    unittest.main()
