"""Functions the mitogen children run; mitogen ships this module to them on the
first call (the warm-up), as it would a user's module."""

_blobs = {}


def noop():
    pass


def blob(size):
    """The same bytes object on every call, so only the transfer is measured."""
    data = _blobs.get(size)
    if data is None:
        data = _blobs[size] = b'x' * size
    return data
