//! Turning a launched process into a running context: spawn, bootstrap, HELLO.
//!
//! One routine for every method. A local child gets its payload right after the
//! spawn; a hop that may prompt (sudo, su, doas, ssh with a password) gets it only
//! after the loader's ready marker, while a [`PromptWatcher`] answers the password
//! prompt on the hop's terminal.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::connection::{Connection, ConnectionSettings, run_reader};
use super::frame_reader::{FrameReader, ReadError, escape};
use super::frame_writer::FrameWriter;
use super::hop_plan::{HopPlan, PayloadTiming, TerminalMode};
use super::password::Password;
use super::prompt::{FailureKind, PromptVerdict, PromptWatcher, find_failure, normalise, redact};
use super::prompt_loop::{ReadyFailure, ReadyWatch, await_ready};
use super::pty_launch::{self, HeldTerminal};
use super::stderr::{StderrSink, StderrTail, run_stderr_reader};
use super::{core_modules, handles, watched_fd};
use crate::bootstrap::{BootConfig, ChildFacts, Markers, Nonce, core_payload};
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
    /// The process, the loader's `-c` arguments included.
    pub spawn: SpawnOptions,
    /// Bound on spawn → HELLO.
    pub connect_timeout: Duration,
    /// The configuration the child was asked to start with.
    pub startup: StartupConfig,
    /// Its lowering for the interpreter assumed before spawning.
    pub startup_plan: StartupPlan,
    /// The nonce of the loader in `spawn`'s arguments.
    pub nonce: Nonce,
    /// For a hop made by a method other than local: its plan (terminal, prompts,
    /// payload timing); `None` runs `spawn` as a plain local child.
    pub hop: Option<HopPlan>,
    /// The password to type at the hop's prompt.
    pub password: Option<Password>,
}

impl LaunchPlan {
    /// The master's plan for executing `hop`.
    pub fn from_hop(
        hop: HopPlan,
        password: Option<Password>,
        startup: StartupConfig,
        startup_plan: StartupPlan,
    ) -> Result<LaunchPlan, ConnectError> {
        let invalid =
            |what: &str| ConnectError::InvalidOption(format!("{} plan: {what}", hop.method));
        let nonce =
            Nonce::from_hex(&hop.nonce).ok_or_else(|| invalid("the nonce is not 12 hex digits"))?;
        let spawn = hop
            .spawn_options()
            .ok_or_else(|| invalid("the command line is empty"))?;
        Ok(LaunchPlan {
            spawn,
            connect_timeout: hop.connect_timeout(),
            startup,
            startup_plan,
            nonce,
            hop: Some(hop),
            password,
        })
    }
}

/// The method's name and target, for messages.
pub(crate) struct HopLabel {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) python: String,
}

/// Start the process of `plan`, bootstrap it and return its live connection.
pub async fn connect(
    id: u32,
    name: String,
    plan: LaunchPlan,
    settings: ConnectionSettings,
) -> Result<Arc<Connection>, ConnectError> {
    let LaunchPlan {
        spawn: mut options,
        connect_timeout,
        startup,
        startup_plan,
        nonce,
        hop,
        password,
    } = plan;
    let terminal = hop.as_ref().map_or(TerminalMode::None, |h| h.terminal);
    let timing = hop.as_ref().map_or(PayloadTiming::Pipelined, |h| h.payload);
    let label = hop.as_ref().map(|h| HopLabel {
        method: h.method.clone(),
        target: h.target.clone(),
        python: h.python.clone(),
    });
    let rules = hop.map(|h| h.prompts).unwrap_or_default();
    let pty = pty_launch::arrange(terminal, &mut options)?;
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
    let streams = pty_launch::streams(terminal, spawned.to_child, spawned.from_child, pty)
        .map_err(|e| {
            fail(
                BootStage::Loader,
                format!("setting up the terminal failed: {e}"),
            )
        })?;
    let writer =
        FrameWriter::new(streams.to_child).map_err(|e| fail(BootStage::Loader, e.to_string()))?;

    let config = BootConfig {
        context_id: id,
        parent_id: 0,
        max_message_size: settings.max_message_size as u64,
        startup: startup_plan.first_stage.clone(),
        // Sent along instead of asked for: the child needs them before HELLO.
        preload: BootConfig::preload_for(&startup_plan.first_stage),
        always_from_parent: settings
            .requests
            .as_ref()
            .map(|r| r.always_from_parent())
            .unwrap_or_default(),
    };
    let mut stage = BootStage::Loader;
    let mut watcher = PromptWatcher::new(rules.clone(), password.is_some());
    let start = Start {
        from_child: streams.from_child,
        tty: streams.tty,
        data_is_terminal: false,
        timing,
        unknown_prompt: Duration::from_millis(rules.unknown_prompt_ms.max(1)),
        password: password.as_ref(),
    };
    let bootstrap = bootstrap(
        start,
        &writer,
        &nonce,
        &config,
        &settings,
        &mut stage,
        &mut watcher,
    );
    let outcome = tokio::time::timeout(connect_timeout, bootstrap).await;
    let failure = match outcome {
        Ok(Ok((facts, reader, tty))) => {
            let verification = match check_startup(&name, &startup, &startup_plan, &facts) {
                Ok(verification) => verification,
                Err(error) => {
                    let _ = process.kill();
                    let _ = process.wait_timeout(FAILURE_SETTLE).await;
                    return Err(error);
                }
            };
            let mut held = streams.keep;
            if streams.hold_tty {
                held.extend(tty);
            }
            let connection = Arc::new(
                Connection::new(id, name, process, facts, verification, writer, settings)
                    .with_terminal(HeldTerminal::new(held)),
            );
            tokio::spawn(run_reader(connection.clone(), reader));
            return Ok(connection);
        }
        Ok(Err(failure)) => Some(failure),
        Err(_elapsed) => None,
    };

    // A recognised prompt failure leaves the program waiting for another answer:
    // stop it now rather than after a grace period.
    if matches!(
        failure,
        Some(Failure::Ready(
            ReadyFailure::Prompt(_) | ReadyFailure::UnknownPrompt { .. }
        ))
    ) {
        let _ = process.kill();
    }
    // The child is of no use now; collect what it can tell about why.
    let status = match process.wait_timeout(FAILURE_SETTLE).await {
        Some(status) => Some(status),
        None => {
            let _ = process.kill();
            let _ = process.wait_timeout(FAILURE_SETTLE).await;
            None
        }
    };
    drop(streams.keep);
    if let Some(task) = stderr_task {
        let _ = tokio::time::timeout(FAILURE_SETTLE, task).await;
    }
    let stderr = redact(&tail.text(), password.as_ref().map(Password::expose));
    let secret = password.as_ref().map(Password::expose);
    if let (Some(label), Some(failure)) = (&label, &failure)
        && let Some(error) = hop_error(
            &name,
            label,
            &rules.failures,
            failure,
            &stderr,
            stage,
            secret,
        )
    {
        return Err(error);
    }
    Err(match failure {
        Some(failure) => ConnectError::Bootstrap {
            context: name,
            program,
            stage,
            status,
            detail: redact(&failure.describe(), secret),
            stderr,
        },
        None => ConnectError::Timeout {
            context: name,
            program,
            stage,
            waited: connect_timeout,
            stderr,
        },
    })
}

/// A failed hop in the terms of its method: a recognised prompt outcome or known
/// failure message; `None` leaves the generic bootstrap error.
pub(crate) fn hop_error(
    context: &str,
    label: &HopLabel,
    failures: &[super::prompt::KnownFailure],
    failure: &Failure,
    stderr: &str,
    stage: BootStage,
    secret: Option<&str>,
) -> Option<ConnectError> {
    let named = |kind: FailureKind, line: String| {
        known_failure(context, label, kind, redact(&line, secret))
    };
    match failure {
        Failure::Ready(ReadyFailure::Prompt(PromptVerdict::Failed { kind, line })) => {
            Some(named(*kind, line.clone()))
        }
        Failure::Ready(ReadyFailure::Prompt(PromptVerdict::NeedPassword { prompt })) => {
            Some(ConnectError::PasswordNeeded {
                context: context.to_string(),
                method: label.method.clone(),
                target: label.target.clone(),
                prompt: prompt.clone(),
            })
        }
        Failure::Ready(ReadyFailure::UnknownPrompt { seen, waited }) => {
            Some(ConnectError::UnknownPrompt {
                context: context.to_string(),
                method: label.method.clone(),
                target: label.target.clone(),
                seen: redact(seen, secret),
                waited: *waited,
            })
        }
        other => {
            // The program ended (or broke off): read its last words.
            let mut text = normalise(stderr.as_bytes());
            if let Failure::Ready(ReadyFailure::Eof { output }) = other {
                text.push('\n');
                text.push_str(&normalise(output));
            }
            let mut kinds = vec![
                FailureKind::Authentication,
                FailureKind::NotPermitted,
                FailureKind::HostKey,
                FailureKind::Unreachable,
            ];
            if stage == BootStage::Loader {
                kinds.push(FailureKind::PythonMissing);
            }
            let (kind, line) = find_failure(failures, &text, Some(&kinds))?;
            Some(named(kind, line))
        }
    }
}

fn known_failure(context: &str, label: &HopLabel, kind: FailureKind, line: String) -> ConnectError {
    let problem = match kind {
        FailureKind::Authentication => {
            return ConnectError::AuthenticationFailed {
                context: context.to_string(),
                method: label.method.clone(),
                target: label.target.clone(),
                detail: line,
            };
        }
        FailureKind::NotPermitted => {
            "the user is not permitted to do this (check the sudoers or doas.conf rules)"
                .to_string()
        }
        FailureKind::HostKey => "the host key does not match the known one; if the host was \
            really re-installed, remove its old key from known_hosts (ssh-keygen -R HOST), \
            otherwise do not connect"
            .to_string(),
        FailureKind::Unreachable => {
            "the host cannot be reached (check the host name, the port, and that sshd runs)"
                .to_string()
        }
        FailureKind::PythonMissing => format!(
            "the interpreter {:?} is not on the target; install it, or name one that \
             exists with python(..) / --python",
            label.python
        ),
    };
    ConnectError::HopFailed {
        context: context.to_string(),
        method: label.method.clone(),
        target: label.target.clone(),
        problem,
        detail: line,
    }
}

/// The parent's ends during the bootstrap.
struct Start<'a> {
    from_child: OwnedFd,
    tty: Option<OwnedFd>,
    data_is_terminal: bool,
    timing: PayloadTiming,
    unknown_prompt: Duration,
    password: Option<&'a Password>,
}

/// Why a bootstrap failed.
pub(crate) enum Failure {
    /// In the ready wait of a hop.
    Ready(ReadyFailure),
    /// Anywhere else, in words.
    Detail(String),
}

impl Failure {
    pub(crate) fn describe(&self) -> String {
        match self {
            Failure::Detail(detail) => detail.clone(),
            Failure::Ready(ReadyFailure::Eof { output }) if output.is_empty() => {
                "it closed its output".to_string()
            }
            Failure::Ready(ReadyFailure::Eof { output }) => format!(
                "it closed its output after printing: {}",
                escape(&output[..output.len().min(2000)])
            ),
            Failure::Ready(ReadyFailure::Io(error)) => {
                format!("reading from the child failed: {error}")
            }
            Failure::Ready(ReadyFailure::TooMuchOutput { output }) => format!(
                "more than {MAX_PRELUDE} bytes arrived without the ready marker; they began: {}",
                escape(output)
            ),
            Failure::Ready(ReadyFailure::OutputAfterMarker) => {
                "output followed the ready marker before the payload was sent".to_string()
            }
            Failure::Ready(ReadyFailure::Prompt(verdict)) => format!("{verdict:?}"),
            Failure::Ready(ReadyFailure::UnknownPrompt { seen, .. }) => {
                format!("it waits at an unknown prompt: {seen}")
            }
        }
    }
}

impl From<String> for Failure {
    fn from(detail: String) -> Failure {
        Failure::Detail(detail)
    }
}

/// Compare the child's report with its configuration, lowered again for the
/// interpreter that actually answered.
pub(crate) fn check_startup(
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

/// Send the core and the boot configuration (at once, or after the ready marker
/// with prompts answered), then follow the child through the markers to its HELLO.
/// `stage` tracks progress for error messages.
async fn bootstrap(
    start: Start<'_>,
    writer: &FrameWriter,
    nonce: &Nonce,
    config: &BootConfig,
    settings: &ConnectionSettings,
    stage: &mut BootStage,
    watcher: &mut PromptWatcher,
) -> Result<(ChildFacts, FrameReader, Option<OwnedFd>), Failure> {
    let markers = Markers::new(nonce);
    let body = to_body(config).map_err(|e| e.to_string())?;
    let mut tty = start.tty;
    let mut markers_left: &[(&Vec<u8>, BootStage)] = &[
        (&markers.ready, BootStage::Core),
        (&markers.running, BootStage::Hello),
    ];
    let reader_fd = match start.timing {
        PayloadTiming::Pipelined => start.from_child,
        PayloadTiming::AfterReady => {
            let data = watched_fd::watch(start.from_child, Interest::READABLE | Interest::WRITABLE)
                .map_err(|e| e.to_string())?;
            let tty_watch = tty
                .take()
                .map(|fd| watched_fd::watch(fd, Interest::READABLE | Interest::WRITABLE))
                .transpose()
                .map_err(|e| e.to_string())?;
            let watch = ReadyWatch {
                data: &data,
                data_is_terminal: start.data_is_terminal,
                tty: tty_watch.as_ref(),
                marker: &markers.ready,
                max_prelude: MAX_PRELUDE,
                unknown_prompt: start.unknown_prompt,
            };
            let skipped = await_ready(watch, watcher, start.password)
                .await
                .map_err(Failure::Ready)?;
            if !skipped.is_empty() {
                let shown = redact(
                    &escape(&skipped[..skipped.len().min(500)]),
                    start.password.map(Password::expose),
                );
                tracing::debug!(output = %shown, "output before the ready marker was skipped");
            }
            *stage = BootStage::Core;
            markers_left = &markers_left[1..];
            tty = tty_watch.map(AsyncFd::into_inner);
            data.into_inner()
        }
    };
    // The payload and configuration fit the pipe, so they are sent in one go; a
    // child that is not Python fails on the read side with a better message, so
    // write errors are only logged.
    if let Err(error) = writer.send_raw(Bytes::from_static(core_payload())).await {
        tracing::debug!(%error, "writing the core payload failed");
    } else if let Err(error) = writer
        .send_to(config.context_id, handles::BOOT_CONFIG, 0, 0, body)
        .await
    {
        tracing::debug!(%error, "writing the boot configuration failed");
    }
    let mut reader =
        FrameReader::new(reader_fd, settings.max_message_size).map_err(|e| e.to_string())?;

    // Anything before a marker (a banner, a noisy sitecustomize) is skipped.
    for (marker, next) in markers_left {
        let skipped = reader
            .skip_until(marker, MAX_PRELUDE)
            .await
            .map_err(describe)?;
        if !skipped.is_empty() {
            let shown = escape(&skipped[..skipped.len().min(500)]);
            tracing::debug!(output = %shown, stage = %stage, "output before a bootstrap marker was skipped");
        }
        *stage = *next;
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
        )
        .into());
    }
    let facts = from_body::<ChildFacts>(&body, &settings.decode_limits)
        .map_err(|e| format!("undecodable HELLO: {e}"))?;
    Ok((facts, reader, tty))
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
