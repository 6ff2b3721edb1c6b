//! `pyfleet pack`: one executable file from a Python app.
//!
//! The file is the pack launcher (crate `pyfleet-stub`) followed by a zip archive:
//! the app's code and its dependencies (installed with the target interpreter's
//! pip), each module compiled to bytecode for the target interpreter in the layout
//! zipimport reads, a generated `__main__`, and the pack's metadata. Packing the
//! same inputs twice gives byte-identical files. `--inspect APP` shows what a pack
//! holds.

mod archive;
mod assemble;
mod bounded;
mod entry;
mod helper;
mod inspect;
mod interpreter;
mod main_module;
mod native;
mod pip;
mod source;
mod startup;
mod stub_binary;

use std::path::PathBuf;

use crate::args::InterpreterArgs;
use crate::{EXIT_CONTEXT_FAILED, EXIT_USAGE};

/// How archive entries are compressed.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Bytecode and the metadata stored (read at every start: no inflating, no
    /// zlib import), everything else deflated.
    Auto,
    /// Everything stored.
    Stored,
    /// Everything deflated except the metadata.
    Deflated,
}

#[derive(clap::Args, Debug)]
pub struct PackArgs {
    /// The app: a directory of Python code (a requirements.txt in it is installed
    /// too), or a project with a pyproject.toml or setup.py (installed with pip,
    /// with its dependencies).
    #[arg(value_name = "SRC", required_unless_present = "inspect")]
    pub source: Option<PathBuf>,
    /// What the app runs: MODULE:FUNCTION (or MODULE:OBJECT.METHOD), called with
    /// no arguments; its return value is the exit status, as for a console script.
    #[arg(
        long,
        value_name = "MODULE:FUNCTION",
        required_unless_present = "inspect"
    )]
    pub entry: Option<String>,
    /// The executable file to write.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "APP",
        required_unless_present = "inspect"
    )]
    pub output: Option<PathBuf>,
    /// Also install the requirements listed in FILE (repeatable).
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    /// Which interpreters may run the app, recorded in it (">=3.8", "cpython==3.11",
    /// "pypy"). Default: --python-version's SPEC, else the implementation and minor
    /// version of the interpreter that packs it.
    #[arg(long, value_name = "SPEC")]
    pub requires_python: Option<String>,
    /// How entries are compressed.
    #[arg(long, value_enum, default_value_t = Compression::Auto)]
    pub compression: Compression,
    /// Bound on installing dependencies with pip, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub pip_timeout: u64,
    /// List what APP holds, and the interpreter constraint and start-up
    /// configuration it carries.
    #[arg(long, value_name = "APP", conflicts_with_all = ["source", "entry", "output"])]
    pub inspect: Option<PathBuf>,
    /// The interpreter that packs the app (its pip installs the dependencies, it
    /// compiles the bytecode) and start-up options the app runs with. Default
    /// start-up: the "system" preset (isolated, no user site, safe path, no
    /// bytecode writes) with the user's environment passed to the app, less
    /// PYTHON* variables; `--preset system` also reduces the environment.
    #[command(flatten)]
    pub interpreter: InterpreterArgs,
}

/// Runs `pyfleet pack`.
pub async fn run(args: PackArgs) -> u8 {
    if let Some(app) = &args.inspect {
        return inspect::run(app);
    }
    let plan = match assemble::plan(&args).await {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("pyfleet pack: {}", error.message);
            return error.exit_code;
        }
    };
    match tokio::task::spawn_blocking(move || assemble::assemble(plan)).await {
        Ok(Ok(report)) => {
            eprintln!("{report}");
            0
        }
        Ok(Err(error)) => {
            eprintln!("pyfleet pack: {}", error.message);
            error.exit_code
        }
        Err(error) => {
            eprintln!("pyfleet pack: packing stopped: {error}");
            EXIT_CONTEXT_FAILED
        }
    }
}

/// A failure, with the exit status it maps to.
#[derive(Debug)]
pub struct PackError {
    /// What went wrong and what to do.
    pub message: String,
    /// [`EXIT_USAGE`] for bad input, [`EXIT_CONTEXT_FAILED`] when an interpreter or
    /// pip failed, 1 for an I/O failure.
    pub exit_code: u8,
}

impl PackError {
    /// Bad input: the command line or the app's files.
    pub fn usage(message: impl Into<String>) -> PackError {
        PackError {
            message: message.into(),
            exit_code: EXIT_USAGE,
        }
    }

    /// The interpreter or a tool it ran failed.
    pub fn interpreter(message: impl Into<String>) -> PackError {
        PackError {
            message: message.into(),
            exit_code: EXIT_CONTEXT_FAILED,
        }
    }

    /// Reading or writing files failed.
    pub fn io(message: impl Into<String>) -> PackError {
        PackError {
            message: message.into(),
            exit_code: 1,
        }
    }
}
