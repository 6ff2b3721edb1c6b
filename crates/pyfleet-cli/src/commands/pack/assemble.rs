//! Packing, step by step: choose the interpreter and settings (`plan`), then stage
//! the app and its dependencies, compile, and write the file (`assemble`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyfleet::startup::StartupConfig;
use pyfleet_stub::metadata::{Bytecode, NativeExtensions, PackMetadata};

use super::archive::{ArchiveFile, ArchiveInput, write_pack};
use super::entry::EntryPoint;
use super::helper::{CompileMode, compile};
use super::interpreter::{Target, choose};
use super::main_module::main_source;
use super::native::{NativeSet, find as find_native};
use super::pip::{Install, install};
use super::source::{Source, copy_tree};
use super::startup::pack_startup;
use super::stub_binary::STUB;
use super::{Compression, PackArgs, PackError};

/// Everything decided before any file is written.
#[derive(Debug)]
pub struct Plan {
    source: Source,
    entry: EntryPoint,
    output: PathBuf,
    target: Target,
    startup: StartupConfig,
    install: Install,
    compression: Compression,
    pip_timeout: Duration,
}

/// Reads the command line and chooses the interpreter: every mistake in the input
/// is reported before the slow steps.
pub async fn plan(args: &PackArgs) -> Result<Plan, PackError> {
    let entry = EntryPoint::parse(args.entry.as_deref().expect("clap requires --entry"))?;
    let source = Source::examine(args.source.as_deref().expect("clap requires SRC"))?;
    let output = absolute(args.output.as_deref().expect("clap requires -o"))?;
    if output.is_dir() {
        return Err(PackError::usage(format!(
            "-o {}: is a directory; name the file to write",
            output.display()
        )));
    }
    let mut requirement_files = Vec::new();
    for file in &args.requirements {
        if !file.is_file() {
            return Err(PackError::usage(format!(
                "-r {}: no such file",
                file.display()
            )));
        }
        requirement_files.push(absolute(file)?);
    }
    requirement_files.extend(source.requirements_file());
    let target = choose(&args.interpreter, args.requires_python.as_deref()).await?;
    let startup = pack_startup(&args.interpreter.startup, &target.interpreter.target)?;
    let project = matches!(source, Source::Project(_)).then(|| source.path().to_path_buf());
    Ok(Plan {
        source,
        entry,
        output,
        target,
        startup,
        install: Install {
            requirement_files,
            project,
        },
        compression: args.compression,
        pip_timeout: Duration::from_secs(args.pip_timeout),
    })
}

fn absolute(path: &Path) -> Result<PathBuf, PackError> {
    std::path::absolute(path).map_err(|error| PackError::io(format!("{}: {error}", path.display())))
}

/// Stages, compiles and writes the pack; returns a one-line summary.
pub fn assemble(plan: Plan) -> Result<String, PackError> {
    let work = tempfile::Builder::new()
        .prefix("pyfleet-pack-")
        .tempdir()
        .map_err(|error| PackError::io(format!("cannot create a work directory: {error}")))?;
    let staging = work.path().join("app");
    let python = &plan.target.interpreter.path;
    if !plan.install.is_empty() {
        let deps = work.path().join("deps");
        install(python, &plan.install, &deps, plan.pip_timeout)?;
        // pip's console scripts are for an installed environment, not an archive.
        let _ = std::fs::remove_dir_all(deps.join("bin"));
        copy_tree(&deps, &staging, &plan.output)?;
    }
    if let Source::Directory(dir) = &plan.source {
        copy_tree(dir, &staging, &plan.output)?;
    }
    std::fs::create_dir_all(&staging)
        .map_err(|error| PackError::io(format!("{}: {error}", staging.display())))?;

    let target = plan.target.interpreter.target;
    let mode = if plan.target.sourceless {
        CompileMode::Timestamp
    } else {
        CompileMode::Unchecked
    };
    let optimize = plan.startup.optimize;
    let before = list_files(&staging)?;
    let salt = format!("{target} {mode:?} -O{optimize}");
    let native = find_native(&before, &salt)?;
    let main = main_source(&plan.entry, native.as_ref(), plan.target.sourceless);
    std::fs::write(staging.join("__main__.py"), main)
        .map_err(|error| PackError::io(format!("writing __main__.py: {error}")))?;

    let report = compile(python, &staging, &plan.entry, mode, optimize)?;
    for (file, message) in &report.failed {
        eprintln!(
            "pyfleet pack: note: {file} does not compile on {target} and ships as source only: {message}"
        );
    }
    if plan.target.sourceless {
        // Bytecode alone: zipimport would compare a timestamp with the zip date.
        for file in &report.compiled {
            let _ = std::fs::remove_file(staging.join(file));
        }
    }
    let files = list_files(&staging)?;
    let metadata = PackMetadata {
        entry: plan.entry.text(),
        python: plan.target.constraint.clone(),
        startup: plan.startup.clone(),
        bytecode: Some(Bytecode {
            implementation: report.implementation.clone(),
            major: target.version.major,
            minor: target.version.minor,
            cache_tag: report.cache_tag.clone(),
            sourceless: plan.target.sourceless,
        }),
        native: native.as_ref().map(|set: &NativeSet| NativeExtensions {
            key: set.key.clone(),
            top_level: set.top_level.clone(),
        }),
        made_by: format!("pyfleet {}", env!("CARGO_PKG_VERSION")),
    };
    let input = ArchiveInput {
        files: files
            .into_iter()
            .map(|(name, source)| ArchiveFile { name, source })
            .collect(),
        metadata_json: metadata.to_json(),
        compression: plan.compression,
        allow_zip64: target.version.at_least(3, 13),
    };
    let entries = input.files.len();
    let pack = write_pack(STUB, &input)?;
    write_executable(&plan.output, &pack)?;
    Ok(format!(
        "pyfleet pack: wrote {} ({} bytes: a {}-byte launcher and {entries} files) for {}, entry {}",
        plan.output.display(),
        pack.len(),
        STUB.len(),
        metadata.python,
        metadata.entry
    ))
}

/// Every file under `root` as (archive path, disk path), sorted by archive path.
fn list_files(root: &Path) -> Result<Vec<(String, PathBuf)>, PackError> {
    let mut files = Vec::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|error| PackError::io(format!("{}: {error}", dir.display())))?;
        for entry in entries {
            let entry =
                entry.map_err(|error| PackError::io(format!("{}: {error}", dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let archive_name = format!("{prefix}{name}");
            if path.is_dir() {
                pending.push((path, format!("{archive_name}/")));
            } else {
                files.push((archive_name, path));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes `bytes` to `path` as an executable, atomically: a reader sees the old
/// file or the new one, never half of one.
fn write_executable(path: &Path, bytes: &[u8]) -> Result<(), PackError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |error: std::io::Error| PackError::io(format!("writing {}: {error}", path.display()));
    let mut temporary = tempfile::Builder::new()
        .prefix(".pyfleet-pack-")
        .tempfile_in(dir)
        .map_err(io)?;
    temporary.write_all(bytes).map_err(io)?;
    temporary
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o755))
        .map_err(io)?;
    temporary.persist(path).map_err(|error| io(error.error))?;
    Ok(())
}
