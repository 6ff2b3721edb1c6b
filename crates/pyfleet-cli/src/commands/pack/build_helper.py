# Run by the target interpreter at pack time (Python 2.7 to 3.14, PyPy), as
#   python -s -S build_helper.py STAGING ENTRY MODE OPTIMIZE
# with PYTHONHASHSEED=0, so that compiled constants (frozensets) come out in the
# same order every time. It
#   1. reports the interpreter's facts;
#   2. checks the entry point without running the app's code: the module's file
#      must be in STAGING and bind the function's name at top level (ast);
#   3. compiles every .py under STAGING to a legacy X.pyc beside X.py, the layout
#      zipimport reads. MODE "unchecked" writes PEP 552 unchecked-hash pycs (3.7+),
#      which zipimport uses without comparing them with the source; MODE
#      "timestamp" is for older versions, whose packs carry no sources (zipimport
#      would compare the pyc's timestamp with the zip entry's local-time date).
# Output: one tab-separated line per fact, result or failure.
import ast
import os
import py_compile
import sys


def say(*fields):
    sys.stdout.write("\t".join(fields) + "\n")


def facts():
    implementation = getattr(sys, "implementation", None)
    name = implementation.name if implementation else (
        "pypy" if "__pypy__" in sys.builtin_module_names else "cpython")
    tag = getattr(implementation, "cache_tag", None) or "%s-%d%d" % (
        name, sys.version_info[0], sys.version_info[1])
    say("fact", "implementation", name)
    say("fact", "version", "%d.%d.%d" % tuple(sys.version_info[:3]))
    say("fact", "cache_tag", tag)


def module_file(staging, module):
    base = os.path.join(staging, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def binds(statements, name):
    """True if these top-level statements bind `name` (or may bind anything)."""
    for node in statements:
        kind = type(node).__name__
        if kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef"):
            if node.name in (name, "__getattr__"):
                return True
        elif kind == "Assign":
            for target in node.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id == name:
                        return True
        elif kind == "AnnAssign":
            if isinstance(node.target, ast.Name) and node.target.id == name:
                return True
        elif kind in ("Import", "ImportFrom"):
            for alias in node.names:
                if alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name:
                    return True
        elif kind in ("If", "Try", "TryExcept", "TryFinally", "TryStar", "With"):
            # Conditional or guarded definitions: look one level in.
            inner = list(getattr(node, "body", [])) + list(getattr(node, "orelse", []))
            inner += list(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                inner += list(handler.body)
            if binds(inner, name):
                return True
    return False


def check_entry(staging, entry):
    module, _, attribute = entry.partition(":")
    path = module_file(staging, module)
    if path is None:
        say("entry", "missing-module", module)
        return
    name = attribute.split(".")[0]
    with open(path, "rb") as f:
        source = f.read()
    try:
        tree = ast.parse(source, path)
    except SyntaxError as error:
        say("entry", "syntax-error", os.path.relpath(path, staging), str(error))
        return
    if binds(tree.body, name):
        say("entry", "ok")
    else:
        say("entry", "missing-function", os.path.relpath(path, staging), name)


def compile_all(staging, mode, optimize):
    kwargs = {}
    if mode == "unchecked":
        kwargs["invalidation_mode"] = py_compile.PycInvalidationMode.UNCHECKED_HASH
    if sys.version_info >= (3, 2):
        kwargs["optimize"] = optimize
    suffix = ".pyo" if sys.version_info[0] == 2 and optimize else ".pyc"
    for directory, dirs, files in os.walk(staging):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            source = os.path.join(directory, name)
            relative = os.path.relpath(source, staging).replace(os.sep, "/")
            try:
                # The name tracebacks show: the path inside the archive.
                py_compile.compile(source, cfile=source[:-3] + suffix, dfile=relative,
                                   doraise=True, **kwargs)
            except Exception as error:  # a file this version cannot compile
                message = " ".join(str(error).split())
                say("failed", relative, message[:300])
            else:
                say("compiled", relative)


def main():
    staging, entry, mode, optimize = sys.argv[1:5]
    facts()
    check_entry(staging, entry)
    if mode != "none":
        compile_all(staging, mode, int(optimize))
    say("done")


main()
