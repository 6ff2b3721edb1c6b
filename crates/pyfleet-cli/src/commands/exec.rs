//! `pyfleet exec -c CODE`

use std::io::Write;

use crate::args::InterpreterArgs;
use crate::json_out::to_json;

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    /// Print the trailing expression's value as JSON instead of its repr().
    #[arg(long)]
    json: bool,
    /// The code to run: statements, optionally ending with an expression whose
    /// value is printed like at the interactive prompt.
    #[arg(short = 'c', value_name = "CODE", required = true)]
    code: String,
}

pub async fn run(args: ExecArgs) -> u8 {
    let broker = super::cli_broker();
    let ctx = match super::start(&broker, &args.interpreter).await {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    let code = match ctx.exec(&args.code).await {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                let value = outcome.value.unwrap_or(pyfleet::Value::None);
                let _ = writeln!(out, "{}", to_json(&value));
            } else if let Some(repr) = &outcome.repr {
                let _ = writeln!(out, "{repr}");
            }
            let _ = out.flush();
            0
        }
        Err(error) => super::report_call_error(&error),
    };
    broker.shutdown().await;
    code
}
