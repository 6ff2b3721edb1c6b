# pyfleet-core: on-demand
"""Password prompts and failure messages on a hop's terminal, judged here when
this context starts a hop itself.

The rules arrive as data from the master and are applied exactly as the master
applies them (crates/pyfleet/src/router/prompt.rs documents the contract): keep
the raw output since the password was last typed, normalise it (escape
sequences and control bytes out, lower case), look for known failures first,
then ask whether the partial last line is a password prompt.
"""

# How much raw terminal output is kept for matching.
KEPT_BYTES = 8 * 1024

# Failures judged while the program runs; a missing interpreter only once it ended.
LIVE_KINDS = ('Authentication', 'NotPermitted', 'HostKey', 'Unreachable')

WAIT = 'wait'
TYPE_PASSWORD = 'type_password'
NEED_PASSWORD = 'need_password'
FAILED = 'failed'


def normalise(raw):
    """Escape sequences and control bytes but \\n and \\t out, ASCII lower-cased,
    decoded as UTF-8 with replacement."""
    data = bytearray(raw)
    kept = bytearray()
    i = 0
    size = len(data)
    while i < size:
        byte = data[i]
        if byte == 0x1b:
            i += _escape_len(data, i)
            continue
        if byte in (0x0a, 0x09) or (byte >= 0x20 and byte != 0x7f):
            if 0x41 <= byte <= 0x5a:
                byte += 0x20
            kept.append(byte)
        i += 1
    return bytes(kept).decode('utf-8', 'replace')


def _escape_len(data, start):
    """Length of the escape sequence at `start`; an unfinished one runs to the end."""
    size = len(data) - start
    if size < 2:
        return 1
    kind = data[start + 1]
    if kind == 0x5b:  # '[': up to a byte in '@'..'~'
        for j in range(start + 2, len(data)):
            if 0x40 <= data[j] <= 0x7e:
                return j - start + 1
        return size
    if kind == 0x5d:  # ']': up to BEL or ESC '\'
        j = start + 2
        while j < len(data):
            if data[j] == 0x07:
                return j - start + 1
            if data[j] == 0x1b and j + 1 < len(data) and data[j + 1] == 0x5c:
                return j - start + 2
            j += 1
        return size
    if kind in (0x28, 0x29, 0x2a, 0x2b):  # '(' ')' '*' '+': one more byte
        return min(3, size)
    return 2


def find_failure(failures, text, only=None):
    """(kind, line) of the first known failure in normalised `text`, or None."""
    for failure in failures:
        kind = failure['kind']
        if only is not None and kind not in only:
            continue
        needle = _lower(failure['text'])
        at = text.find(needle)
        if at < 0:
            continue
        start = text.rfind(u'\n', 0, at) + 1
        end = text.find(u'\n', at)
        if end < 0:
            end = len(text)
        return kind, text[start:end].strip()
    return None


def partial_line(text):
    return text[text.rfind(u'\n') + 1:].rstrip()


def _lower(text):
    """ASCII-only lower case, as the master does it."""
    return u''.join(c.lower() if u'A' <= c <= u'Z' else c for c in text)


def redact(text, secret):
    if not secret:
        return text
    return text.replace(secret, u'***').replace(_lower(secret), u'***')


class Watcher(object):
    """Applies one hop's rules to its terminal output, chunk by chunk."""

    def __init__(self, rules, has_password):
        self.prompts = [_lower(p.rstrip()) for p in rules.get('password_prompts') or ()]
        self.failures = list(rules.get('failures') or ())
        self.has_password = has_password
        self.typed = False
        self.raw = b''

    def feed(self, chunk):
        """(verdict, detail): WAIT, TYPE_PASSWORD, NEED_PASSWORD with the prompt,
        or FAILED with (kind, line)."""
        self.raw = (self.raw + chunk)[-KEPT_BYTES:]
        text = normalise(self.raw)
        failure = find_failure(self.failures, text, LIVE_KINDS)
        if failure is not None:
            return FAILED, failure
        partial = partial_line(text)
        if not partial or not any(
                prompt and (partial.endswith(prompt) or (prompt in partial and partial.endswith(u':')))
                for prompt in self.prompts):
            return WAIT, None
        if self.typed:
            return FAILED, ('Authentication', u'asked for the password again: ' + partial)
        if not self.has_password:
            return NEED_PASSWORD, partial
        self.typed = True
        self.raw = b''
        return TYPE_PASSWORD, None

    def partial_line(self):
        return partial_line(normalise(self.raw))
