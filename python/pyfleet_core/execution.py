# pyfleet-core: on-demand
"""Source code run in the child's __main__, the way the interactive interpreter does.

Loaded on first use. A trailing expression is evaluated separately so that its value
can be returned (and shown) like at the `>>>` prompt.
"""
import marshal
import sys


def _main_namespace():
    return sys.modules['__main__'].__dict__


def evaluate(expression, filename='<string>'):
    """The value of one expression, evaluated in __main__."""
    return eval(compile(expression, filename, 'eval'), _main_namespace())


def run_main(mode, target, argv, source=None, path0=None):
    """Run a program the way `python` would, in this child.

    `mode` is 'code' (-c, and code from stdin), 'script' (a file, or a directory
    or zip with __main__.py: `source` holds its text, `target` its file name) or
    'module' (-m: runpy, packages with __main__ included). `argv` becomes sys.argv
    and `path0` (when given) sys.path[0], as CPython sets them for each mode.
    Returns {'repr', 'value'} for a trailing expression in code, and 'exit' with
    the status when the program called sys.exit().
    """
    sys.argv[:] = list(argv)
    if path0 is not None:
        if sys.path and sys.path[0] in ('', path0):
            sys.path[0] = path0
        else:
            sys.path.insert(0, path0)
    try:
        if mode == 'module':
            import runpy
            runpy.run_module(target, run_name='__main__', alter_sys=True)
            return _result(None)
        if mode == 'code':
            return run(source, target)
        namespace = _main_namespace()
        namespace['__file__'] = target
        exec(compile(source, target, 'exec'), namespace)
        return _result(None)
    except SystemExit:
        return {'repr': None, 'value': None, 'exit': _exit_status(sys.exc_info()[1].code)}


def _exit_status(code):
    """What the interpreter would exit with for sys.exit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write('%s\n' % (code,))
    sys.stderr.flush()
    return 1


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
