
# Native extensions cannot be imported from a zip: the top-level packages that
# hold them are written once to a directory named by their content hash, then
# imported from there. A temporary directory renamed into place makes the
# extraction atomic, so concurrent first runs are safe: one rename wins, the
# others find the complete directory and discard their copy.
_PYFLEET_NATIVE_KEY = "@KEY@"
_PYFLEET_NATIVE_TOP = frozenset(@TOP@)
_PYFLEET_SOURCELESS = @SOURCELESS@


def _pyfleet_native_dir():
    import os
    target = os.environ.pop("PYFLEET_PACK_NATIVE_DIR", None)
    if not target:
        root = os.environ.get("PYFLEET_PACK_CACHE")
        if not root:
            base = os.environ.get("XDG_CACHE_HOME")
            if not base or not os.path.isabs(base):
                base = os.path.join(os.path.expanduser("~"), ".cache")
            root = os.path.join(base, "pyfleet", "pack")
        target = os.path.join(root, _PYFLEET_NATIVE_KEY)
    if not os.path.isdir(target):
        try:
            _pyfleet_extract(target)
        except (IOError, OSError) as error:
            sys.stderr.write(
                "%s: cannot extract this app's native extensions to %s: %s. Set "
                "PYFLEET_PACK_CACHE to a writable directory.\n"
                % (os.path.basename(sys.argv[0]), os.path.dirname(target), error))
            sys.exit(126)
    sys.path.insert(0, target)


def _pyfleet_extract(target):
    import os
    import shutil
    import tempfile
    import zipfile
    root = os.path.dirname(target)
    if not os.path.isdir(root):
        try:
            os.makedirs(root, 0o700)
        except OSError:
            if not os.path.isdir(root):
                raise
    tag = getattr(getattr(sys, "implementation", None), "cache_tag", None)
    try:
        from importlib.util import MAGIC_NUMBER as magic
    except ImportError:
        import imp
        magic = imp.get_magic()
    temporary = tempfile.mkdtemp(prefix="." + _PYFLEET_NATIVE_KEY + "-", dir=root)
    try:
        archive = zipfile.ZipFile(__loader__.archive)
        names = set(archive.namelist())
        for name in sorted(names):
            if name.split("/")[0] not in _PYFLEET_NATIVE_TOP or name.endswith("/"):
                continue
            path = os.path.join(temporary, *name.split("/"))
            data = archive.read(name)
            if name.endswith(".pyc") and not _PYFLEET_SOURCELESS and name[:-1] in names:
                # Beside its source, a directory import reads bytecode only from
                # __pycache__, and only this interpreter's.
                if not tag or data[:4] != magic:
                    continue
                folder, base = os.path.split(path)
                path = os.path.join(folder, "__pycache__", "%s.%s.pyc" % (base[:-4], tag))
            folder = os.path.dirname(path)
            if not os.path.isdir(folder):
                os.makedirs(folder)
            with open(path, "wb") as out:
                out.write(data)
            mode = (archive.getinfo(name).external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
        archive.close()
        try:
            os.rename(temporary, target)
        except OSError:
            if not os.path.isdir(target):
                raise
            shutil.rmtree(temporary, True)
    except BaseException:
        shutil.rmtree(temporary, True)
        raise
