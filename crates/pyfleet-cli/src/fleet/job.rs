//! What a fleet run does on each host once it is connected.

use std::time::Instant;

use pyfleet::{CallError, Context, Value};

/// The work for every host.
#[derive(Debug, Clone)]
pub enum Job {
    /// Run code as `pyfleet exec -c` does; the result is the trailing
    /// expression's value.
    Code(String),
    /// Call MODULE.FUNCTION with arguments, as `pyfleet call` does.
    Call {
        /// The dotted name.
        function: String,
        /// Positional arguments (a tuple).
        args: Value,
        /// Keyword arguments (a dict).
        kwargs: Value,
    },
    /// Report the interpreter and one round trip's time.
    Ping,
    /// Send a file (as `pyfleet push` does); the result is its size, mode and
    /// checksum.
    Push {
        /// The file here.
        local: std::path::PathBuf,
        /// Where it goes on each host.
        remote: String,
        /// How both ends check the copy.
        checksum: pyfleet::api::Checksum,
    },
}

/// What the job gave back.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// The value, when it could cross to Rust.
    pub value: Option<Value>,
    /// Its `repr()`, for code whose value could not cross.
    pub repr: Option<String>,
    /// `sys.exit(status)` called by the code, if it did with a non-zero status.
    pub exit: Option<i32>,
}

impl Job {
    /// Run on `ctx`.
    pub async fn run(&self, ctx: &Context) -> Result<JobResult, CallError> {
        match self {
            Job::Code(code) => {
                let outcome = ctx
                    .run_main(pyfleet::Program::Code(code.clone()), &[])
                    .await?;
                Ok(JobResult {
                    value: outcome.value,
                    repr: outcome.repr,
                    exit: outcome.exit.filter(|status| *status != 0),
                })
            }
            Job::Call {
                function,
                args,
                kwargs,
            } => {
                let value =
                    crate::commands::call::call_dotted(ctx, function, args.clone(), kwargs.clone())
                        .await?;
                Ok(JobResult {
                    value: Some(value),
                    repr: None,
                    exit: None,
                })
            }
            Job::Push {
                local,
                remote,
                checksum,
            } => {
                let options = pyfleet::api::TransferOptions::new().checksum(*checksum);
                let done =
                    ctx.push_with(local, remote, &options)
                        .await
                        .map_err(|error| match error {
                            pyfleet::TransferError::Remote(call) => call,
                            // Local failures and mismatches become a failure of this
                            // host, named as such.
                            other => CallError::Remote(pyfleet::RemoteError {
                                type_name: "TransferError".into(),
                                message: other.to_string(),
                                traceback: String::new(),
                                context: ctx.name().to_string(),
                            }),
                        })?;
                let entry = |key: &str, value: Value| (Value::Str(key.to_string()), value);
                let value = Value::Dict(vec![
                    entry(
                        "bytes",
                        Value::Int(i64::try_from(done.bytes).unwrap_or(i64::MAX)),
                    ),
                    entry("mode", Value::Str(format!("{:o}", done.mode))),
                    entry(done.checksum.name(), Value::Str(done.digest)),
                ]);
                Ok(JobResult {
                    value: Some(value),
                    repr: None,
                    exit: None,
                })
            }
            Job::Ping => {
                let started = Instant::now();
                let pid: u32 = ctx.call("os", "getpid", (), ()).await?;
                let round_trip = started.elapsed();
                let facts = ctx.facts();
                let entry = |key: &str, value: Value| (Value::Str(key.to_string()), value);
                let value = Value::Dict(vec![
                    entry("python", Value::Str(facts.version_text.clone())),
                    entry("implementation", Value::Str(facts.implementation.clone())),
                    entry("executable", Value::Str(facts.executable.clone())),
                    entry("hostname", Value::Str(facts.hostname.clone())),
                    entry("pid", Value::Int(i64::from(pid))),
                    entry(
                        "round_trip_ms",
                        Value::Float(round_trip.as_secs_f64() * 1000.0),
                    ),
                ]);
                Ok(JobResult {
                    value: Some(value),
                    repr: None,
                    exit: None,
                })
            }
        }
    }
}
