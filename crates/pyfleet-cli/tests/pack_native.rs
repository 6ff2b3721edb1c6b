//! Native extensions in a pack: extracted once to a content-addressed cache
//! directory, safe under concurrent first runs, and a clear refusal when no cache
//! directory can be written.

mod pack_support;

use pack_support::*;

const NATIVE_APP: &[(&str, &str)] = &[
    ("requirements.txt", "markupsafe==2.1.5\n"),
    (
        "nativeapp.py",
        "import sys\nimport markupsafe\n\ndef main():\n    \
         sys.stdout.write('%s %s' % (markupsafe.escape('<x>'), markupsafe.escape.__module__))\n",
    ),
];

#[test]
fn concurrent_first_runs_extract_native_extensions_once() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(&src, NATIVE_APP);
    let app = at(dir.path(), "app");
    pack(&src, "nativeapp:main", &app, &["--python", PYTHON]);
    let cache = at(dir.path(), "cache");
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let mut command = app_command(&app, PYTHON.as_ref(), dir.path());
            command.env("PYFLEET_PACK_CACHE", &cache);
            std::thread::spawn(move || output(command))
        })
        .collect();
    for run in runs {
        let result = run.join().unwrap();
        assert!(result.status.success(), "{}", text(&result.stderr));
        // The compiled speedups module, not the pure-Python fallback.
        assert_eq!(text(&result.stdout), "&lt;x&gt; markupsafe._speedups");
    }
    let entries: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries.len(), 1, "one directory, no leftovers: {entries:?}");
    let extracted = cache.join(&entries[0]);
    assert!(extracted.join("markupsafe/__init__.py").is_file());
    assert!(
        extracted
            .join("markupsafe/__pycache__/__init__.cpython-311.pyc")
            .is_file(),
        "the bytecode is extracted where a directory import reads it"
    );
    // Later runs use the directory as it is.
    let mut again = app_command(&app, PYTHON.as_ref(), dir.path());
    again.env("PYFLEET_PACK_CACHE", &cache);
    assert!(output(again).status.success());
}

#[test]
fn native_extensions_with_no_writable_cache_are_refused_clearly() {
    let dir = temp();
    let src = at(dir.path(), "src");
    write_tree(
        &src,
        &[
            ("fastpkg/__init__.py", "from fastpkg._speed import f\n"),
            (
                "fastpkg/_speed.cpython-311-x86_64-linux-gnu.so",
                "not loaded: extraction fails first",
            ),
            ("nativeapp.py", "def main():\n    import fastpkg\n"),
        ],
    );
    let app = at(dir.path(), "app");
    pack(&src, "nativeapp:main", &app, &["--python", PYTHON]);
    // A regular file where the cache's parent directory should be: not writable
    // even by root.
    let blocker = at(dir.path(), "blocker");
    std::fs::write(&blocker, "").unwrap();
    let mut command = app_command(&app, PYTHON.as_ref(), dir.path());
    command.env("PYFLEET_PACK_CACHE", blocker.join("cache"));
    let result = output(command);
    let message = text(&result.stderr);
    assert_eq!(result.status.code(), Some(126), "{message}");
    assert!(
        message.contains("cannot extract this app's native extensions to"),
        "{message}"
    );
    assert!(
        message.contains("Set PYFLEET_PACK_CACHE to a writable directory"),
        "{message}"
    );
}
