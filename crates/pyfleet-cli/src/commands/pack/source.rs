//! What SRC is (a directory of code or an installable project) and copying the
//! app's own files into the staging directory.

use std::fs;
use std::path::{Path, PathBuf};

use super::PackError;

/// How deep SRC's directories may nest (a loop of symlinks ends here).
const MAX_DEPTH: usize = 64;

/// What SRC holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A project pip installs (pyproject.toml with [project] or [build-system], or
    /// setup.py): its code and dependencies come from `pip install SRC`.
    Project(PathBuf),
    /// A directory of modules and packages, copied as it is.
    Directory(PathBuf),
}

impl Source {
    /// Examines SRC.
    pub fn examine(path: &Path) -> Result<Source, PackError> {
        if !path.is_dir() {
            return Err(PackError::usage(format!(
                "{} is not a directory: SRC is a directory of Python code or a project",
                path.display()
            )));
        }
        let path = fs::canonicalize(path)
            .map_err(|error| PackError::io(format!("{}: {error}", path.display())))?;
        let pyproject = fs::read_to_string(path.join("pyproject.toml")).unwrap_or_default();
        let declares_project = pyproject
            .lines()
            .map(str::trim)
            .any(|line| line == "[project]" || line == "[build-system]");
        if declares_project || path.join("setup.py").is_file() {
            Ok(Source::Project(path))
        } else {
            Ok(Source::Directory(path))
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        match self {
            Source::Project(path) | Source::Directory(path) => path,
        }
    }

    /// `requirements.txt` in SRC, if any.
    pub fn requirements_file(&self) -> Option<PathBuf> {
        Some(self.path().join("requirements.txt")).filter(|file| file.is_file())
    }
}

/// True for what is never part of an app: hidden entries, bytecode caches,
/// compiled files (the pack compiles its own) and virtual environments.
fn skipped(path: &Path, name: &str) -> bool {
    name.starts_with('.')
        || name == "__pycache__"
        || name.ends_with(".pyc")
        || name.ends_with(".pyo")
        || (path.is_dir() && path.join("pyvenv.cfg").is_file())
}

/// Copies `from` into `to`, leaving out [`skipped`] entries and `exclude` (the
/// output file, when it is written inside SRC). Files win over what is there
/// already (the app over a dependency of the same name).
pub fn copy_tree(from: &Path, to: &Path, exclude: &Path) -> Result<(), PackError> {
    copy_level(from, to, exclude, 0)
}

fn copy_level(from: &Path, to: &Path, exclude: &Path, depth: usize) -> Result<(), PackError> {
    if depth > MAX_DEPTH {
        return Err(PackError::usage(format!(
            "{} nests more than {MAX_DEPTH} directories deep (a symlink loop?)",
            from.display()
        )));
    }
    let io =
        |path: &Path, error: std::io::Error| PackError::io(format!("{}: {error}", path.display()));
    fs::create_dir_all(to).map_err(|e| io(to, e))?;
    let mut entries: Vec<_> = fs::read_dir(from)
        .map_err(|e| io(from, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(from, e))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().ok_or_else(|| {
            PackError::usage(format!(
                "{}: file names in an app must be UTF-8 (zip entries are)",
                path.display()
            ))
        })?;
        if skipped(&path, name) || path == exclude {
            continue;
        }
        let target = to.join(name);
        let meta = fs::metadata(&path).map_err(|e| io(&path, e))?;
        if meta.is_dir() {
            copy_level(&path, &target, exclude, depth + 1)?;
        } else if meta.is_file() {
            fs::copy(&path, &target).map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_and_directories_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Source::examine(dir.path()),
            Ok(Source::Directory(_))
        ));
        fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.black]\nline-length = 99\n",
        )
        .unwrap();
        assert!(matches!(
            Source::examine(dir.path()),
            Ok(Source::Directory(_))
        ));
        fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n",
        )
        .unwrap();
        assert!(matches!(
            Source::examine(dir.path()),
            Ok(Source::Project(_))
        ));
        let error = Source::examine(&dir.path().join("missing")).unwrap_err();
        assert!(error.message.contains("is not a directory"));
    }

    #[test]
    fn copies_code_and_leaves_out_caches() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("pkg/__pycache__")).unwrap();
        fs::create_dir_all(src.join(".git")).unwrap();
        fs::create_dir_all(src.join("venv")).unwrap();
        fs::write(src.join("venv/pyvenv.cfg"), "home = /usr\n").unwrap();
        fs::write(src.join("pkg/__init__.py"), "").unwrap();
        fs::write(src.join("pkg/__pycache__/x.pyc"), "").unwrap();
        fs::write(src.join("pkg/old.pyc"), "").unwrap();
        fs::write(src.join("app"), "the output").unwrap();
        let out = dir.path().join("out");
        copy_tree(&src, &out, &src.join("app")).unwrap();
        assert!(out.join("pkg/__init__.py").is_file());
        for gone in ["pkg/__pycache__", "pkg/old.pyc", ".git", "venv", "app"] {
            assert!(!out.join(gone).exists(), "{gone}");
        }
    }
}
