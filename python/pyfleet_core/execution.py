# pyfleet-core: on-demand
"""Source code run in the child's __main__, the way the interactive interpreter does.

Loaded on first use. A trailing expression is evaluated separately so that its value
can be returned (and shown) like at the `>>>` prompt.
"""
import marshal
import sys


def _main_namespace():
    return sys.modules['__main__'].__dict__


def run(source, filename='<string>'):
    """Run `source`; return {'repr': text or None, 'value': the value if it can cross}."""
    namespace = _main_namespace()
    try:
        code = compile(source, filename, 'eval')
    except SyntaxError:
        code = None
    if code is not None:
        return _result(eval(code, namespace))
    import ast
    tree = ast.parse(source, filename, 'exec')
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        tree.body.pop()
        exec(compile(tree, filename, 'exec'), namespace)
        expression = ast.Expression(last.value)
        return _result(eval(compile(expression, filename, 'eval'), namespace))
    exec(compile(tree, filename, 'exec'), namespace)
    return _result(None)


def _result(value):
    if value is None:
        return {'repr': None, 'value': None}
    try:
        marshal.dumps(value, 2)
    except ValueError:
        from pyfleet_core import load
        convert = load('convert')
        try:
            return {'repr': repr(value), 'value': convert.plain(value)}
        except convert.Unencodable:
            return {'repr': repr(value), 'value': None, 'unencodable': type(value).__name__}
    return {'repr': repr(value), 'value': value}
