//! Turning a launched process into a running context: spawn, bootstrap, HELLO.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::connection::{Connection, ConnectionSettings, run_reader};
use super::frame_reader::{FrameReader, ReadError, escape};
use super::frame_writer::FrameWriter;
use super::stderr::{StderrSink, StderrTail, run_stderr_reader};
use super::{core_modules, handles};
use crate::bootstrap::{BootConfig, ChildFacts, Markers, Nonce, core_payload, loader_source};
use crate::error::{BootStage, ConnectError};
use crate::spawn::{self, SpawnOptions};
use crate::startup::{
    PythonTarget, StartupConfig, StartupPlan, Verification, Verify, lower, verify,
};
use crate::wire::{from_body, to_body};

/// Output tolerated before a marker (login banners, a noisy sitecustomize).
const MAX_PRELUDE: usize = 1 << 20;

/// After a failed bootstrap, how long to wait for the process to end and for its
/// stderr to be read completely, so the error can show both.
const FAILURE_SETTLE: Duration = Duration::from_millis(500);

/// What to start and how long it may take.
pub struct LaunchPlan {
    /// The process, without the loader's `-c` arguments.
    pub spawn: SpawnOptions,
    /// Bound on spawn → HELLO.
    pub connect_timeout: Duration,
    /// The configuration the child was asked to start with.
    pub startup: StartupConfig,
    /// Its lowering for the interpreter assumed before spawning.
    pub startup_plan: StartupPlan,
}

/// Start the process of `plan`, bootstrap it and return its live connection.
pub async fn connect(
    id: u32,
    name: String,
    plan: LaunchPlan,
    settings: ConnectionSettings,
) -> Result<Arc<Connection>, ConnectError> {
    let nonce = Nonce::random();
    let payload = core_payload();
    let mut options = plan.spawn;
    options.args.push(OsString::from("-c"));
    options
        .args
        .push(OsString::from(loader_source(&nonce, payload.len())));
    let program = options.program.clone();
    let spawned = spawn::spawn(options).await?;
    let process = spawned.process.clone();
    let tail = StderrTail::default();
    let stderr_task = spawned.stderr.map(|fd| {
        let sink = StderrSink {
            context: name.clone(),
            context_id: id,
            output: settings.output.clone(),
        };
        tokio::spawn(run_stderr_reader(fd, sink, tail.clone()))
    });
    let fail = |stage, detail: String| ConnectError::Bootstrap {
        context: name.clone(),
        program: program.clone(),
        stage,
        status: None,
        detail,
        stderr: String::new(),
    };
    let writer =
        FrameWriter::new(spawned.to_child).map_err(|e| fail(BootStage::Loader, e.to_string()))?;
    let mut reader = FrameReader::new(spawned.from_child, settings.max_message_size)
        .map_err(|e| fail(BootStage::Loader, e.to_string()))?;

    let config = BootConfig {
        context_id: id,
        parent_id: 0,
        max_message_size: settings.max_message_size as u64,
        startup: plan.startup_plan.first_stage.clone(),
        // HELLO needs the probes module when the plan asks for probes: send it along
        // instead of letting the child ask for it.
        preload: if plan.startup_plan.first_stage.probes.is_empty() {
            Vec::new()
        } else {
            BootConfig::preload(&["probes"])
        },
    };
    let mut stage = BootStage::Loader;
    let bootstrap = bootstrap(&mut reader, &writer, &nonce, &config, &settings, &mut stage);
    let outcome = tokio::time::timeout(plan.connect_timeout, bootstrap).await;
    let failure = match outcome {
        Ok(Ok(facts)) => {
            let verification = match check_startup(&name, &plan.startup, &plan.startup_plan, &facts)
            {
                Ok(verification) => verification,
                Err(error) => {
                    let _ = process.kill();
                    let _ = process.wait_timeout(FAILURE_SETTLE).await;
                    return Err(error);
                }
            };
            let connection = Arc::new(Connection::new(
                id,
                name,
                process,
                facts,
                verification,
                writer,
                settings,
            ));
            tokio::spawn(run_reader(connection.clone(), reader));
            return Ok(connection);
        }
        Ok(Err(detail)) => Some(detail),
        Err(_elapsed) => None,
    };

    // The child is of no use now; collect what it can tell about why.
    let status = match process.wait_timeout(FAILURE_SETTLE).await {
        Some(status) => Some(status),
        None => {
            let _ = process.kill();
            let _ = process.wait_timeout(FAILURE_SETTLE).await;
            None
        }
    };
    if let Some(task) = stderr_task {
        let _ = tokio::time::timeout(FAILURE_SETTLE, task).await;
    }
    Err(match failure {
        Some(detail) => ConnectError::Bootstrap {
            context: name,
            program,
            stage,
            status,
            detail,
            stderr: tail.text(),
        },
        None => ConnectError::Timeout {
            context: name,
            program,
            stage,
            waited: plan.connect_timeout,
            stderr: tail.text(),
        },
    })
}

/// Compare the child's report with its configuration, lowered again for the
/// interpreter that actually answered.
fn check_startup(
    name: &str,
    config: &StartupConfig,
    assumed: &StartupPlan,
    facts: &ChildFacts,
) -> Result<Verification, ConnectError> {
    if config.verify == Verify::Off {
        return Ok(Verification::default());
    }
    let Some(actual) = PythonTarget::from_facts(facts) else {
        return Err(ConnectError::StartupMismatch {
            context: name.to_string(),
            target: facts.describe(),
            report: format!(
                "  the child reported an unknown implementation {:?}\n",
                facts.implementation
            ),
        });
    };
    let plan = lower(config, &actual)?;
    if plan.args != assumed.args || plan.env != assumed.env {
        return Err(ConnectError::TargetMismatch {
            context: name.to_string(),
            actual,
            assumed_args: assumed.args.join(" "),
            actual_args: plan.args.join(" "),
        });
    }
    let verification = verify(&plan, facts);
    if !verification.passed() {
        match config.verify {
            Verify::Strict => {
                return Err(ConnectError::StartupMismatch {
                    context: name.to_string(),
                    target: actual.to_string(),
                    report: verification.to_string(),
                });
            }
            _ => tracing::warn!(
                context = name,
                "startup settings not in effect:\n{verification}"
            ),
        }
    }
    Ok(verification)
}

/// Send the core and the boot configuration, then follow the child through the
/// markers to its HELLO. `stage` tracks progress for error messages.
async fn bootstrap(
    reader: &mut FrameReader,
    writer: &FrameWriter,
    nonce: &Nonce,
    config: &BootConfig,
    settings: &ConnectionSettings,
    stage: &mut BootStage,
) -> Result<ChildFacts, String> {
    let markers = Markers::new(nonce);
    // Both fit the pipe, so they are sent at once, before the loader even asks: a
    // child that is not Python fails on the read side with a better message, so
    // write errors are only logged.
    let body = to_body(config).map_err(|e| e.to_string())?;
    if let Err(error) = writer.send_raw(Bytes::from_static(core_payload())).await {
        tracing::debug!(%error, "writing the core payload failed");
    } else if let Err(error) = writer
        .send_to(config.context_id, handles::BOOT_CONFIG, 0, 0, body)
        .await
    {
        tracing::debug!(%error, "writing the boot configuration failed");
    }

    // Anything before a marker (a banner, a noisy sitecustomize) is skipped.
    for (marker, next) in [
        (&markers.ready, BootStage::Core),
        (&markers.running, BootStage::Hello),
    ] {
        let skipped = reader
            .skip_until(marker, MAX_PRELUDE)
            .await
            .map_err(describe)?;
        if !skipped.is_empty() {
            let shown = escape(&skipped[..skipped.len().min(500)]);
            tracing::debug!(output = %shown, stage = %stage, "output before a bootstrap marker was skipped");
        }
        *stage = next;
    }
    let (header, body) = loop {
        let (header, body) = reader
            .read_frame()
            .await
            .map_err(describe)?
            .ok_or_else(|| "the stream ended before HELLO".to_string())?;
        if header.handle == handles::LOAD_CORE && header.src == config.context_id {
            core_modules::answer(
                writer,
                config.context_id,
                &header,
                &body,
                &settings.decode_limits,
            )
            .await
            .map_err(|e| format!("answering a core module request failed: {e}"))?;
            continue;
        }
        break (header, body);
    };
    if header.handle != handles::HELLO || header.src != config.context_id {
        return Err(format!(
            "expected HELLO from context {}, got a frame for handle {} from {}",
            config.context_id, header.handle, header.src
        ));
    }
    from_body::<ChildFacts>(&body, &settings.decode_limits)
        .map_err(|e| format!("undecodable HELLO: {e}"))
}

fn describe(error: ReadError) -> String {
    match error {
        ReadError::EofBeforeMarker { output } if output.is_empty() => {
            "it closed its output".to_string()
        }
        ReadError::EofBeforeMarker { output } => {
            format!("it closed its output after printing: {output}")
        }
        other => other.to_string(),
    }
}
