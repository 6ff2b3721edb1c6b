//! One module per subcommand.

pub mod call;
pub mod exec;
pub mod inspect;
mod inspect_inventory;
pub mod interpreters;
pub mod pack;
pub mod ping;
pub mod run;
pub mod transfer;

use pyfleet::{Broker, CallError, Context};

use crate::{EXIT_CONTEXT_FAILED, EXIT_REMOTE_ERROR, EXIT_USAGE};

/// A broker whose children's output goes to our terminal and that serves the
/// modules the options name.
pub fn cli_broker(modules: Option<pyfleet::ModuleServer>) -> Broker {
    let builder = Broker::builder().on_output(crate::output::passthrough());
    match modules {
        Some(server) => builder.modules(server).build(),
        None => builder.build(),
    }
}

/// Say what is wrong with the command line; the exit status for it.
pub fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("pyfleet: {message}");
    EXIT_USAGE
}

/// Start the interpreter, or say why not.
pub async fn start(
    broker: &Broker,
    interpreter: &crate::args::InterpreterArgs,
) -> Result<Context, u8> {
    let usage = |message: String| {
        eprintln!("pyfleet: {message}");
        EXIT_USAGE
    };
    let hops = interpreter.hops().map_err(usage)?;
    if !hops.is_empty() {
        return connect_chain(broker, hops).await.map_err(|error| {
            eprintln!("pyfleet: {error}");
            EXIT_CONTEXT_FAILED
        });
    }
    let options = interpreter.local_options().map_err(|message| {
        eprintln!("pyfleet: {message}");
        EXIT_USAGE
    })?;
    broker.local(options).await.map_err(|error| {
        eprintln!("pyfleet: {error}");
        EXIT_CONTEXT_FAILED
    })
}

/// Start the first hop from the master and each next one from the context
/// before it; the last context is returned (it keeps the others alive).
pub async fn connect_chain(
    broker: &Broker,
    hops: Vec<pyfleet::method::Hop>,
) -> Result<Context, pyfleet::ConnectError> {
    let mut hops = hops.into_iter();
    let first = hops
        .next()
        .ok_or_else(|| pyfleet::ConnectError::InvalidOption("an empty chain of hops".into()))?;
    let mut ctx = broker.connect(first).await?;
    for hop in hops {
        ctx = ctx.connect(hop).await?;
    }
    Ok(ctx)
}

/// Report a failed call the way Python would, and choose the exit status.
pub fn report_call_error(error: &CallError) -> u8 {
    match error {
        CallError::Remote(remote) => {
            eprint!("{}", remote.traceback);
            if remote.traceback.is_empty() {
                eprintln!("{}: {}", remote.type_name, remote.message);
            }
            EXIT_REMOTE_ERROR
        }
        other => {
            eprintln!("pyfleet: {other}");
            EXIT_CONTEXT_FAILED
        }
    }
}
