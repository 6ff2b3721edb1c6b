//! `pyfleet exec [-c CODE | -m MODULE | PATH | -] [ARGS...]`: run a program in a
//! child the way `python` would.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use pyfleet::Program;

use crate::args::{InterpreterArgs, ModuleArgs};
use crate::json_out::to_json;

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    #[command(flatten)]
    modules: ModuleArgs,
    /// Print the trailing expression's value as JSON instead of its repr().
    #[arg(long)]
    json: bool,
    /// Run CODE: statements, optionally ending with an expression whose value is
    /// printed like at the interactive prompt.
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "module")]
    code: Option<String>,
    /// Run MODULE as __main__ (runpy; a package runs its __main__ submodule). It
    /// may come from --module-root / --module-from-python.
    #[arg(short = 'm', value_name = "MODULE")]
    module: Option<String>,
    /// Without -c or -m: a script, a directory or zip with __main__.py, or - for
    /// code on stdin; then the program's arguments (sys.argv[1:]).
    #[arg(
        value_name = "PATH|- [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

/// The program to run, the arguments after it, and module roots it brings along
/// (a script's directory, a directory or zip application itself).
fn program(args: &ExecArgs) -> Result<(Program, Vec<String>, Vec<PathBuf>), String> {
    if let Some(code) = &args.code {
        return Ok((Program::Code(code.clone()), args.rest.clone(), Vec::new()));
    }
    if let Some(module) = &args.module {
        return Ok((
            Program::Module(module.clone()),
            args.rest.clone(),
            Vec::new(),
        ));
    }
    let (first, rest) = match args.rest.split_first() {
        Some((first, rest)) => (first.as_str(), rest.to_vec()),
        None if !std::io::stdin().is_terminal() => ("-", Vec::new()),
        None => {
            return Err("nothing to run: give -c CODE, -m MODULE, a PATH, or - for stdin".into());
        }
    };
    if first == "-" {
        let mut code = String::new();
        std::io::stdin()
            .read_to_string(&mut code)
            .map_err(|e| format!("reading stdin: {e}"))?;
        return Ok((Program::Stdin(code), rest, Vec::new()));
    }
    let path = Path::new(first);
    let meta = std::fs::metadata(path).map_err(|e| format!("{first}: {e}"))?;
    let looks_like_zip = path.extension().is_some_and(|e| e == "zip" || e == "pyz");
    if meta.is_dir() || looks_like_zip {
        let (filename, source) = pyfleet::services::read_main(path).map_err(|e| e.to_string())?;
        let program = Program::Main {
            path: first.to_string(),
            filename,
            source,
        };
        return Ok((program, rest, vec![path.to_path_buf()]));
    }
    let source = std::fs::read_to_string(path).map_err(|e| format!("{first}: {e}"))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let program = Program::Script {
        path: first.to_string(),
        source,
    };
    Ok((program, rest, vec![dir.to_path_buf()]))
}

pub async fn run(args: ExecArgs) -> u8 {
    let (program, program_args, roots) = match program(&args) {
        Ok(found) => found,
        Err(message) => return super::usage_error(message),
    };
    let modules = match args.modules.server(&roots) {
        Ok(modules) => modules,
        Err(message) => return super::usage_error(message),
    };
    let broker = super::cli_broker(modules);
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let code = match ctx.run_main(program, &program_args).await {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                let value = outcome.value.clone().unwrap_or(pyfleet::Value::None);
                let _ = writeln!(out, "{}", to_json(&value));
            } else if let Some(repr) = &outcome.repr {
                let _ = writeln!(out, "{repr}");
            }
            let _ = out.flush();
            outcome
                .exit
                .map_or(0, |status| u8::try_from(status & 0xff).unwrap_or(1))
        }
        Err(error) => super::report_call_error(&error),
    };
    broker.shutdown().await;
    code
}
