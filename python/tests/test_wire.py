"""Framing of the connection to the parent, over real pipes."""
import marshal
import os
import struct
import unittest

from pyfleet_core import wire


class PipeConnection(object):
    """A Connection whose parent end is a pair of pipes this test holds."""

    def __init__(self, max_size=1 << 20):
        self.to_child_r, self.to_child_w = os.pipe()
        self.from_child_r, self.from_child_w = os.pipe()
        self.conn = wire.Connection(self.to_child_r, self.from_child_w, max_size)
        self.conn.context_id = 5

    def close(self):
        for fd in (self.to_child_r, self.to_child_w, self.from_child_r, self.from_child_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def read_sent(self):
        header = os.read(self.from_child_r, wire.HEADER_LEN)
        fields = wire.HEADER.unpack(header)
        body = b''
        while len(body) < fields[8]:
            body += os.read(self.from_child_r, fields[8] - len(body))
        return fields, body


def frame(handle, body, size=None, magic=wire.MAGIC):
    return wire.HEADER.pack(magic, wire.VALUE, 0, 5, 0, 0, handle,
                            0, len(body) if size is None else size) + body


class WireTest(unittest.TestCase):

    def setUp(self):
        self.pipes = PipeConnection()
        self.conn = self.pipes.conn

    def tearDown(self):
        self.pipes.close()

    def test_header_is_28_bytes(self):
        self.assertEqual(wire.HEADER_LEN, 28)

    def test_several_frames_in_one_read(self):
        data = frame(1, marshal.dumps(u'a', 2)) + frame(2, marshal.dumps((1, 2), 2))
        os.write(self.pipes.to_child_w, data)
        header, body = self.conn.read_frame()
        self.assertEqual(header[6], 1)
        self.assertEqual(wire.loads(body), u'a')
        header, body = self.conn.read_frame()
        self.assertEqual(wire.loads(body), (1, 2))

    def test_large_body_is_read_whole(self):
        payload = os.urandom(300000)
        body = marshal.dumps(payload, 2)
        data = frame(7, body)
        import threading
        writer = threading.Thread(target=os.write, args=(self.pipes.to_child_w, data))
        writer.start()
        header, got = self.conn.read_frame()
        writer.join()
        self.assertEqual(wire.loads(got), payload)

    def test_end_of_stream(self):
        os.close(self.pipes.to_child_w)
        self.assertIsNone(self.conn.read_frame())

    def test_end_of_stream_inside_a_header_is_an_error(self):
        os.write(self.pipes.to_child_w, b'PF\x01')
        os.close(self.pipes.to_child_w)
        self.assertRaises(wire.ProtocolError, self.conn.read_frame)

    def test_bad_magic_and_oversize_are_refused(self):
        os.write(self.pipes.to_child_w, frame(1, b'N', magic=0x1234))
        self.assertRaises(wire.ProtocolError, self.conn.read_frame)
        big = PipeConnection(max_size=10)
        try:
            os.write(big.to_child_w, frame(1, b'N', size=11))
            self.assertRaises(wire.ProtocolError, big.conn.read_frame)
        finally:
            big.close()

    def test_send_value_marks_source_and_reply(self):
        self.conn.send_value(0, 1500, {u'k': [1, 2.5]}, flags=wire.FLAG_ERROR, reply_to=9)
        fields, body = self.pipes.read_sent()
        self.assertEqual(fields[:8], (wire.MAGIC, wire.VALUE, wire.FLAG_ERROR, 0, 5, 5, 1500, 9))
        self.assertEqual(marshal.loads(body), {u'k': [1, 2.5]})

    def test_large_bytes_skip_marshal_but_decode_the_same(self):
        payload = b'x' * (wire.LARGE_BYTES + 3)
        import threading
        sender = threading.Thread(target=self.conn.send_value, args=(0, 1500, payload))
        sender.start()
        fields, body = self.pipes.read_sent()
        sender.join()
        self.assertEqual(body, marshal.dumps(payload, 2))

    def test_too_large_to_send(self):
        small = PipeConnection(max_size=100)
        try:
            self.assertRaises(wire.MessageTooLarge, small.conn.send_value, 0, 1500, b'x' * 200)
        finally:
            small.close()

    def test_unencodable_values_raise_value_error(self):
        self.assertRaises(ValueError, self.conn.send_value, 0, 1500, object())


if __name__ == '__main__':
    unittest.main()


class RequestTest(unittest.TestCase):

    def setUp(self):
        self.pipes = PipeConnection()
        self.conn = self.pipes.conn

    def tearDown(self):
        self.pipes.close()

    def test_request_keeps_other_frames_for_later(self):
        # The parent's answer comes after an unrelated CALL frame.
        unrelated = frame(wire.CALL, marshal.dumps(u'later', 2))
        answer = wire.HEADER.pack(wire.MAGIC, wire.VALUE, 0, 5, 0, 0, wire.FIRST_DYNAMIC, 0, 1) + b'N'
        os.write(self.pipes.to_child_w, unrelated + answer)
        self.assertIsNone(self.conn.request(wire.LOAD_CORE, u'x'))
        fields, body = self.pipes.read_sent()
        self.assertEqual((fields[6], fields[7]), (wire.LOAD_CORE, wire.FIRST_DYNAMIC))
        header, body = self.conn.read_frame()
        self.assertEqual((header[6], wire.loads(body)), (wire.CALL, u'later'))

    def test_an_error_answer_raises(self):
        body = marshal.dumps((u'ImportError', u'no such module', u''), 2)
        answer = wire.HEADER.pack(wire.MAGIC, wire.VALUE, wire.FLAG_ERROR, 5, 0, 0,
                                  wire.FIRST_DYNAMIC, 0, len(body)) + body
        os.write(self.pipes.to_child_w, answer)
        self.assertRaises(wire.RequestFailed, self.conn.request, wire.LOAD_CORE, u'x')
