//! What every measurement shares: which interpreter and transport a context uses,
//! which tokio runtime drives it, and bounded waits.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::ValueEnum;
use pyfleet::spawn::Transport;
use pyfleet::{Broker, Context, LocalOptions};
use serde_json::{Value, json};

/// Bound on any single step (start, call, batch of calls, shutdown).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The no-op function round trips call: a plain Python function, like a user's.
pub const NOOP_SOURCE: &str = "def noop():\n    pass\n";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TransportArg {
    /// The library's default: a socket pair unless SELinux is enforcing.
    Auto,
    Pipes,
    Socketpair,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Flavor {
    /// `#[tokio::main(flavor = "current_thread")]`: everything on one thread.
    CurrentThread,
    /// `#[tokio::main]`: one worker per core.
    MultiThread,
}

/// How children are started and driven; shared by every subcommand.
#[derive(clap::Args, Clone, Debug)]
pub struct ChildArgs {
    #[arg(long, default_value = "/usr/bin/python3.11")]
    pub python: PathBuf,
    /// Start children with `-I -S` (isolated, no site), like the bare baseline.
    #[arg(long)]
    pub isolated: bool,
    /// Start children with a start-up preset (`system`: StartupConfig::system()).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    #[arg(long, value_enum, default_value_t = TransportArg::Auto)]
    pub transport: TransportArg,
    #[arg(long, value_enum, default_value_t = Flavor::CurrentThread)]
    pub runtime: Flavor,
    /// Run the measured code in a spawned task instead of in `block_on` (which is
    /// where a `#[tokio::main]` body runs: on the main thread, not on a worker).
    #[arg(long)]
    pub in_task: bool,
}

impl ChildArgs {
    pub fn local_options(&self) -> LocalOptions {
        let mut options = LocalOptions::new()
            .python(&self.python)
            .transport(self.transport.into())
            .connect_timeout(STEP_TIMEOUT);
        if self.isolated {
            options = options.interpreter_arg("-I").interpreter_arg("-S");
        }
        if self.preset.as_deref() == Some("system") {
            options = options.startup(pyfleet::StartupConfig::system());
        }
        options
    }

    fn runtime(&self) -> anyhow::Result<tokio::runtime::Runtime> {
        let mut builder = match self.runtime {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        };
        Ok(builder.enable_all().build()?)
    }

    /// Run `work` to completion on a new runtime of the chosen flavour, in
    /// `block_on` or (with `--in-task`) in a task spawned from it.
    pub fn block_on<F>(&self, work: F) -> anyhow::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = self.runtime()?;
        if self.in_task {
            let task = runtime.spawn(work);
            Ok(runtime.block_on(task)?)
        } else {
            Ok(runtime.block_on(work))
        }
    }

    /// The variant's fields for the report, so results say what they measured.
    pub fn describe(&self) -> Value {
        json!({
            "python": self.python,
            "isolated": self.isolated,
            "preset": self.preset,
            "transport": format!("{:?}", Transport::from(self.transport).resolve()),
            "runtime": format!("{:?}", self.runtime),
            "in_task": self.in_task,
        })
    }
}

impl From<TransportArg> for Transport {
    fn from(arg: TransportArg) -> Transport {
        match arg {
            TransportArg::Auto => Transport::Auto,
            TransportArg::Pipes => Transport::Pipes,
            TransportArg::Socketpair => Transport::SocketPair,
        }
    }
}

/// Await `step`, failing after [`STEP_TIMEOUT`] with `what` in the message.
pub async fn bounded<T, E>(
    what: &str,
    step: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .with_context(|| format!("{what}: no answer within {STEP_TIMEOUT:?}"))?
        .with_context(|| what.to_string())
}

/// Like [`bounded`] for steps that cannot fail (shutdown).
pub async fn bounded_infallible(what: &str, step: impl Future<Output = ()>) -> anyhow::Result<()> {
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .with_context(|| format!("{what}: not done within {STEP_TIMEOUT:?}"))
}

/// A started context with `noop` defined in its `__main__`.
pub async fn context_with_noop(broker: &Broker, args: &ChildArgs) -> anyhow::Result<Context> {
    let context = bounded("starting a context", broker.local(args.local_options())).await?;
    bounded("defining noop", context.exec(NOOP_SOURCE)).await?;
    Ok(context)
}

/// One no-op round trip.
pub async fn call_noop(context: &Context) -> Result<(), pyfleet::CallError> {
    context
        .call::<pyfleet::Value>("__main__", "noop", (), ())
        .await
        .map(drop)
}
