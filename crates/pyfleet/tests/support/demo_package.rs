//! A real pure-Python package for module-serving tests: a package with relative
//! imports, a subpackage, a data file, a deliberate exception, and twenty small
//! modules; installed with pip, so it is as "installed" as anything a user has.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Line of `raise ValueError` in demo_pkg/api.py (1-based), for traceback checks.
pub const RAISE_LINE: usize = 12;

const API: &str = r#"from . import helpers
from .sub import deep


def greet(name):
    return helpers.shout('hello ' + name) + deep.suffix()


def fail():
    # The line below is RAISE_LINE.
    value = 'served'
    raise ValueError('raised from a served module: ' + value)


def data():
    import pkgutil
    return pkgutil.get_data('demo_pkg', 'data/greeting.txt')


def count_modules():
    import sys
    return len([m for m in sys.modules if m.startswith('demo_pkg')])
"#;

/// Write the package's source tree (with a setup.py) under `dir`.
pub fn write_source(dir: &Path) -> PathBuf {
    let src = dir.join("demo_src");
    let pkg = src.join("demo_pkg");
    std::fs::create_dir_all(pkg.join("sub")).unwrap();
    std::fs::create_dir_all(pkg.join("data")).unwrap();
    std::fs::create_dir_all(pkg.join("many")).unwrap();
    std::fs::write(pkg.join("__init__.py"), "VERSION = '1.0'\n").unwrap();
    std::fs::write(pkg.join("api.py"), API).unwrap();
    assert_eq!(
        API.lines().position(|l| l.contains("raise ValueError")),
        Some(RAISE_LINE - 1)
    );
    std::fs::write(
        pkg.join("helpers.py"),
        "def shout(text):\n    return text.upper()\n",
    )
    .unwrap();
    std::fs::write(pkg.join("sub/__init__.py"), "").unwrap();
    std::fs::write(
        pkg.join("sub/deep.py"),
        "from ..helpers import shout\n\ndef suffix():\n    return shout('!')\n",
    )
    .unwrap();
    std::fs::write(pkg.join("data/greeting.txt"), "hello from package data\n").unwrap();
    let mut imports = String::new();
    for i in 0..20 {
        std::fs::write(
            pkg.join(format!("many/m{i:02}.py")),
            format!("VALUE = {i}\n"),
        )
        .unwrap();
        imports.push_str(&format!("from . import m{i:02}\n"));
    }
    imports.push_str("TOTAL = sum(m.VALUE for m in [");
    imports.push_str(
        &(0..20)
            .map(|i| format!("m{i:02}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    imports.push_str("])\n");
    std::fs::write(pkg.join("many/__init__.py"), imports).unwrap();
    std::fs::write(
        src.join("setup.py"),
        "from setuptools import setup\nsetup(name='demo_pkg', version='1.0', packages=['demo_pkg', 'demo_pkg.sub', 'demo_pkg.many'],\n      package_data={'demo_pkg': ['data/*.txt']})\n",
    )
    .unwrap();
    src
}

fn pip(python: &Path, args: &[&str]) {
    let output = Command::new(python)
        .args(["-m", "pip", "--disable-pip-version-check", "--no-input"])
        .args(args)
        .env_remove("PYTHONPATH")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pip {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Install the package with pip into `target` (a plain directory, like
/// `pip install --target`); returns `target`.
pub fn install_into(dir: &Path, python: &Path) -> PathBuf {
    let src = write_source(dir);
    let target = dir.join("site");
    let src = src.display().to_string();
    let target_text = target.display().to_string();
    pip(
        python,
        &[
            "install",
            "--no-index",
            "--no-build-isolation",
            "--target",
            &target_text,
            &src,
        ],
    );
    assert!(target.join("demo_pkg/api.py").is_file());
    target
}

/// A virtualenv with the package installed; returns the venv's python.
pub fn venv_with_package(dir: &Path, python: &Path) -> PathBuf {
    let src = write_source(dir);
    let venv = dir.join("venv");
    let status = Command::new(python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "creating a venv with {}",
        python.display()
    );
    let venv_python = venv.join("bin/python");
    let src = src.display().to_string();
    pip(
        &venv_python,
        &["install", "--no-index", "--no-build-isolation", &src],
    );
    venv_python
}
