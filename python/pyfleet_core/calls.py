"""Function calls requested by the parent."""
import sys

from pyfleet_core import wire


def resolve(module, function):
    """The callable named `function` (dotted for attributes) in `module`."""
    target = sys.modules.get(module)
    if target is None:
        if module.startswith('pyfleet_core.'):
            from pyfleet_core import load
            target = load(module[len('pyfleet_core.'):])
        else:
            __import__(module)
            target = sys.modules[module]
    for name in function.split('.'):
        target = getattr(target, name)
    return target


class Calls(object):
    """Runs CALL frames one at a time on the main thread, in arrival order."""

    def __init__(self, conn, output, state):
        self.conn = conn
        self.output = output
        self.state = state

    def on_call(self, header, body):
        src = header[4]
        reply_to = header[7]
        state = self.state
        state.busy = True
        try:
            call = wire.loads(body)
            if len(call) != 4 or header[2] & wire.FLAG_CHANNELS:
                state.busy = False
                from pyfleet_core import load
                return load('channels').run_call(self, header, call)
            module, function, args, kwargs = call
            result = resolve(module, function)(*args, **kwargs)
        except BaseException:
            state.busy = False
            self.output.flush()
            self.fail(src, reply_to, sys.exc_info())
            return
        state.busy = False
        self.output.flush()
        if reply_to:
            self.reply(src, reply_to, result)

    def reply(self, dst, reply_to, result):
        try:
            self.conn.send_value(dst, reply_to, result)
            return
        except ValueError:
            pass  # marshal refused a type; its plain equivalent may do
        except wire.MessageTooLarge as exc:
            self.fail(dst, reply_to, None, too_large_report(exc))
            return
        from pyfleet_core import load
        convert = load('convert')
        try:
            self.conn.send_value(dst, reply_to, convert.plain(result))
        except convert.Unencodable as exc:
            self.fail(dst, reply_to, None, unencodable_report(*exc.args))
        except ValueError:
            self.fail(dst, reply_to, None, unencodable_report('result', type(result).__name__))
        except wire.MessageTooLarge as exc:
            self.fail(dst, reply_to, None, too_large_report(exc))

    def fail(self, dst, reply_to, exc_info, report=None):
        """Send an error report for `exc_info` (or a ready-made `report`)."""
        if report is None:
            from pyfleet_core import load
            report = load('errors').describe(exc_info, skip_frames=1)
        if not reply_to:
            from pyfleet_core import router
            router.log('call without reply failed: %s: %s\n%s' % report)
            return
        self.conn.send_value(dst, reply_to, report, flags=wire.FLAG_ERROR)


def unencodable_report(location, type_name):
    return (
        'pyfleet.UnencodableResult',
        '%s of type %r cannot be sent to the parent: only None, bool, int, float, '
        'str, bytes, tuple, list, dict, set and frozenset (and their subclasses, '
        'nested freely) can cross' % (location, type_name), '')


def too_large_report(exc):
    return (
        'pyfleet.MessageTooLarge',
        'the result is %d bytes, above the maximum message size of %d bytes; raise '
        'max_message_size on the broker or move the data through a stream' % exc.args, '')
