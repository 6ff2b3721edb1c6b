"""Second stage: turn the shipped module table into the running core.

The first-stage loader (crates/pyfleet/src/bootstrap/loader.rs) executes this file
with three globals: M, the table of (name, filename, minified source, line map)
rows whose first row is this file; K, the per-child nonce that makes the markers
unique; and D, true if the loader removed '' (the working directory) from
sys.path[0] so that no file there could shadow a module the core imports.
Nothing here may print to fd 1 before the protocol fds are moved away.
"""
import os
import sys
import zlib

# Modules compiled at start; the rest are compiled on first use via load().
EAGER = ('compat', 'wire', 'router', 'output', 'calls', 'hello', 'watchdog', 'imports')

# Settings firststage.py applies; the module is sent only when one is present.
FIRST_STAGE_STEPS = ('sys_path', 'argv', 'cwd', 'umask', 'rlimits')

# Names the interactive interpreter has in __main__; everything else is the loader's.
MAIN_NAMES = ('__name__', '__doc__', '__package__', '__loader__', '__spec__',
              '__annotations__', '__builtins__')


def install(table):
    """Create the pyfleet_core package and a loader for its shipped modules."""
    module_type = type(sys)
    package = module_type('pyfleet_core')
    package.__path__ = []
    package.__package__ = 'pyfleet_core'
    sys.modules['pyfleet_core'] = package
    shipped = {}
    sources = {}
    for name, filename, source, linemap in table:
        if not isinstance(filename, str):
            filename = filename.decode('utf-8')
        shipped[name if isinstance(name, str) else name.decode('ascii')] = (filename, source)
        sources[filename] = (source, linemap)
    package.__sources__ = sources

    def add(name, filename, source, linemap):
        if not isinstance(filename, str):
            filename = filename.decode('utf-8')
        shipped[str(name)] = (filename, source)
        sources[filename] = (source, linemap)

    def fetch(name):
        """Modules not needed to start are sent by the parent when first used."""
        conn = getattr(package, 'connection', None)
        if conn is None:
            raise ImportError('pyfleet core module %s is sent on demand, once connected' % name)
        filename, compressed, linemap = conn.request(load('wire').LOAD_CORE, name)
        add(name, filename, zlib.decompress(compressed), linemap)

    def load(name):
        name = str(name)  # Python 2 gets unicode names from the parent
        full_name = 'pyfleet_core.' + name
        module = sys.modules.get(full_name)
        if module is None:
            if name not in shipped:
                fetch(name)
            filename, source = shipped[name]
            module = module_type(full_name)
            module.__file__ = filename
            module.__package__ = 'pyfleet_core'
            sys.modules[full_name] = module
            setattr(package, name, module)
            cache = getattr(package, 'code_cache', None)
            code = cache.compile(name, source, filename) if cache else compile(source, filename, 'exec')
            exec(code, module.__dict__)
        return module

    package.load = load
    package.add_module = add
    return load


def clean_main():
    """Leave __main__ as plain as `python -c` would, for code the parent runs there."""
    namespace = sys.modules['__main__'].__dict__
    for name in list(namespace):
        if name not in MAIN_NAMES:
            del namespace[name]


def move_stdio(compat):
    """Keep the protocol on private fds; fd 0 reads /dev/null, fd 1 writes to stderr."""
    rfd = os.dup(0)
    wfd = os.dup(1)
    compat.set_cloexec(rfd)
    compat.set_cloexec(wfd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return rfd, wfd


def main(table, nonce, script_dir_removed):
    load = install(table)
    package = sys.modules['pyfleet_core']
    package.code_cache = load('codecache').CodeCache(table)
    for name in EAGER:
        load(name)
    clean_main()
    compat = load('compat')
    wire = load('wire')
    stdio = (sys.stdin, sys.stdout, sys.stderr)
    rfd, wfd = move_stdio(compat)
    os.write(wfd, b'PFC' + nonce + b'\n')
    conn = wire.Connection(rfd, wfd, 1 << 20)
    sys.modules['pyfleet_core'].connection = conn
    frame = conn.read_frame()
    if frame is None:
        return
    header, body = frame
    if header[6] != wire.BOOT_CONFIG:
        raise wire.ProtocolError('expected the boot configuration, got handle %d' % header[6])
    config = wire.loads(body)
    conn.context_id = config['context_id']
    conn.parent_id = config['parent_id']
    conn.max_message_size = config['max_message_size']
    for name, filename, compressed, linemap in config.get('preload') or ():
        sys.modules['pyfleet_core'].add_module(name, filename, zlib.decompress(compressed), linemap)
    stage = config.get('startup') or {}
    if script_dir_removed and not stage.get('safe_path'):
        sys.path.insert(0, '')  # the loader took it off only to import safely
    if any(stage.get(step) for step in FIRST_STAGE_STEPS):
        load('firststage').apply(stage)
    output = load('output').install(conn, conn.parent_id)
    facts = load('hello').facts(stdio, stage.get('report_env') or (), stage.get('probes') or ())
    conn.send_value(conn.parent_id, wire.HELLO, facts)
    # After HELLO: a lookup at the parent during the handshake would not be answered.
    load('imports').install(config.get('always_from_parent') or ())
    watchdog = load('watchdog')
    state = watchdog.State()
    watchdog.start(rfd, state)
    package.code_cache.save()
    router = load('router').Router(conn)
    package.router = router
    router.add_handler(wire.CALL, load('calls').Calls(conn, output, state).on_call)
    router.serve()
    output.flush()


def report_fatal(exc_info):
    """Print a failure before HELLO to the real stderr, with the core's frames at
    their source lines (the interpreter's own report would show minified lines)."""
    import traceback
    package = sys.modules.get('pyfleet_core')
    sources = getattr(package, '__sources__', {})
    compat = sys.modules.get('pyfleet_core.compat')
    entries = []
    for entry in traceback.extract_tb(exc_info[2]):
        filename, lineno, name, line = tuple(entry)[:4]
        if filename in sources and compat is not None:
            lineno = compat.original_line(sources[filename][1], lineno)
            line = None
        entries.append((filename, lineno, name, line))
    text = ''.join(traceback.format_list(entries) + traceback.format_exception_only(*exc_info[:2]))
    try:
        sys.__stderr__.write('pyfleet core failed:\nTraceback (most recent call last):\n' + text)
        sys.__stderr__.flush()
    except (IOError, OSError):
        pass  # stderr is gone too (a hung-up terminal): nothing left to tell


try:
    main(M, K, D)  # noqa: F821 (globals given by the first-stage loader)
except SystemExit:
    raise
except BaseException:
    report_fatal(sys.exc_info())
    sys.exit(1)
