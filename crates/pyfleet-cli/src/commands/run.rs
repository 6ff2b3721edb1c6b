//! `pyfleet run -i INVENTORY PATTERN (-c CODE | -m MODULE.FUNCTION [ARGS...])`

use std::path::PathBuf;

use pyfleet::Value;

use crate::EXIT_USAGE;
use crate::args::{ModuleArgs, parse_call_arguments};
use crate::fleet::command::run_on_fleet;
use crate::fleet::{FleetArgs, Job};

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    modules: ModuleArgs,
    /// Do not serve modules from the current directory (served by default, so
    /// `-m mytool.main` finds ./mytool).
    #[arg(long, help_heading = "Modules")]
    no_cwd_modules: bool,
    /// Run CODE on every host; the value of a trailing expression is the result.
    #[arg(
        short = 'c',
        value_name = "CODE",
        conflicts_with = "function",
        required_unless_present = "function"
    )]
    code: Option<String>,
    /// Call MODULE.FUNCTION on every host (as `pyfleet call` does).
    #[arg(short = 'm', value_name = "MODULE.FUNCTION")]
    function: Option<String>,
    /// Arguments for -m: Python literals or JSON; NAME=VALUE for keywords.
    #[arg(value_name = "ARGS", allow_hyphen_values = true, requires = "function")]
    args: Vec<String>,
}

pub async fn run(args: RunArgs) -> u8 {
    let job = match (&args.code, &args.function) {
        (Some(code), _) => Job::Code(code.clone()),
        (None, Some(function)) => {
            if crate::commands::call::resolution_order(function, false).is_empty() {
                eprintln!("pyfleet: expected MODULE.FUNCTION, e.g. os.getpid, not {function:?}");
                return EXIT_USAGE;
            }
            match parse_call_arguments(&args.args) {
                Ok(arguments) => Job::Call {
                    function: function.clone(),
                    args: Value::Tuple(arguments.args),
                    kwargs: Value::Dict(arguments.kwargs),
                },
                Err(message) => return super::usage_error(message),
            }
        }
        (None, None) => unreachable!("clap requires -c or -m"),
    };
    let cwd: Vec<PathBuf> = if args.no_cwd_modules {
        Vec::new()
    } else {
        vec![PathBuf::from(".")]
    };
    let modules = match args.modules.server(&cwd) {
        Ok(modules) => modules,
        Err(message) => return super::usage_error(message),
    };
    run_on_fleet(&args.fleet, job, modules).await
}
