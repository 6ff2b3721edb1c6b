"""pyfleet's child runtime.

Shipped to every child interpreter over its stdin, minified and compressed, by the
pyfleet library; never installed. Runs unchanged on Python 2.7, 3.6+ and PyPy.
"""


def load(name):
    """A core module by name. Running from source (the unit tests) this is a plain
    import; in a child, boot.py replaces the whole package with the shipped one."""
    return __import__('pyfleet_core.' + name, fromlist=['*'])
