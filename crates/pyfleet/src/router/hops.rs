//! Contexts started by other contexts: the master's side of multi-hop.
//!
//! A context becomes a parent (a hop) when the master first asks it to start a
//! context: it loads the on-demand core module `parent` (python/pyfleet_core/
//! parent.py), which routes frames and executes [`HopPlan`]s there as
//! [`connect`](super::connect()) does here.
//!
//! Ids: the master allocates every context id from its one counter, as for its own
//! children, and tells each hop on the path where the new id lives ("route": the
//! hops above the one that starts it learn which of their children it is behind).
//! No hop ever makes up an id, so ids stay unique across the whole tree and
//! routes are exact. A hop drops frames from a child whose source is not behind
//! that child, frames a child sends to the hop itself or to its siblings, and
//! reports each drop here, where it is counted on the child's
//! [`DropCounters`](super::DropCounters).
//!
//! The master reaches a context behind hops through its first hop's link: frames
//! to it carry its id and every hop routes them down; its frames arrive on that
//! link with its id as source, and are accepted only if the id is routed there.
//! When a hop ends, every context behind it ends with
//! [`EndReason::HopEnded`], which names the hop.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use super::connect::{Failure, HopLabel, check_startup, hop_error};
use super::connection::Connection;
use super::context_end::EndReason;
use super::handles::{CALL, HOP};
use super::hop_plan::{HopEnv, HopPlan, PayloadTiming, TerminalMode};
use super::password::Password;
use super::prompt::{FailureKind, PromptRules, PromptVerdict};
use super::prompt_loop::ReadyFailure;
use super::{ConnectionSettings, LaunchPlan, OutputStream, decode_reply, encode_call};
use crate::bootstrap::{BootConfig, ChildFacts, core_payload};
use crate::error::{BootStage, CallError, ConnectError};
use crate::spawn::ExitStatus;
use crate::startup::{InheritEnv, StartupConfig, StartupPlan};
use crate::wire::{ByteBuf, Value, from_body, to_body};

/// Time a hop gets beyond the plan's own bound to report how a start went.
const REPLY_MARGIN: Duration = Duration::from_secs(5);

/// How long a stopped context behind a hop may take to be reported ended, beyond
/// the hop's own escalation (input closed, hang-up, SIGTERM, SIGKILL).
const STOP_MARGIN: Duration = Duration::from_secs(2);

/// What a hop needs to start a context.
pub struct HopLaunch {
    /// What to run there.
    pub plan: HopPlan,
    /// The password for its prompt; sent in a message of its own.
    pub password: Option<Password>,
    /// The configuration the new context was asked to start with.
    pub startup: StartupConfig,
    /// Its lowering for the interpreter assumed.
    pub startup_plan: StartupPlan,
}

impl HopLaunch {
    /// A local launch plan (made on this machine by
    /// [`LocalOptions::plan`](crate::LocalOptions::plan)) as a hop's plan, for a hop
    /// on this machine. Pre-exec hooks cannot cross to another process and are
    /// refused.
    pub fn from_local(plan: LaunchPlan) -> Result<HopLaunch, ConnectError> {
        let invalid =
            |what: &str| ConnectError::InvalidOption(format!("local through a hop: {what}"));
        if !plan.spawn.pre_exec.is_empty() {
            return Err(invalid("pre-exec hooks run only in children of the master"));
        }
        let text = |value: &std::ffi::OsStr| {
            value
                .to_str()
                .map(str::to_string)
                .ok_or_else(|| invalid("arguments and environment must be UTF-8"))
        };
        let mut argv = vec![text(plan.spawn.program.as_os_str())?];
        for arg in &plan.spawn.args {
            argv.push(text(arg)?);
        }
        let env = &plan.startup_plan.env;
        let pairs = env
            .set
            .iter()
            .map(|(k, v)| Ok((text(k)?, text(v)?)))
            .collect::<Result<Vec<_>, ConnectError>>()?;
        let unset = env
            .unset
            .iter()
            .map(|k| text(k))
            .collect::<Result<Vec<_>, ConnectError>>()?;
        let hop_env = HopEnv {
            keep_python_vars: matches!(env.inherit, InheritEnv::All),
            set: pairs,
            only: match &env.inherit {
                InheritEnv::Only(names) => Some(names.clone()),
                _ => None,
            },
            unset,
        };
        let cwd = plan
            .spawn
            .cwd
            .as_ref()
            .map(|dir| text(dir.as_os_str()))
            .transpose()?;
        let python = argv[0].clone();
        Ok(HopLaunch {
            plan: HopPlan {
                method: "local".into(),
                target: "the hop's machine".into(),
                python,
                argv,
                env: hop_env,
                terminal: TerminalMode::None,
                payload: PayloadTiming::Pipelined,
                prompts: PromptRules::default(),
                nonce: plan.nonce.as_str().to_string(),
                connect_timeout_ms: plan
                    .connect_timeout
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                cwd,
            },
            password: None,
            startup: plan.startup,
            startup_plan: plan.startup_plan,
        })
    }
}

/// Make `hop` a parent, once: it loads the routing module and takes the payload
/// its children read.
async fn become_parent(hop: &Connection) -> Result<(), CallError> {
    hop.parent_ready()
        .get_or_try_init(|| async {
            let payload = ByteBuf::from(Bytes::from_static(core_payload()));
            let call = encode_call("pyfleet_core.parent", "install", &(payload,), &(), None)?;
            let reply = hop.request_with(CALL, call.body, call.flags).await?;
            let limits = &hop.settings().decode_limits;
            decode_reply::<Value>(reply, limits, hop.name(), || {
                "pyfleet_core.parent.install".to_string()
            })?;
            Ok(())
        })
        .await
        .map(|_| ())
}

async fn control(hop: &Connection, message: &impl Serialize) -> Result<(), CallError> {
    hop.send(HOP, to_body(message)?).await
}

/// Start a context through `hop`: it executes `launch` and reports the new
/// context's HELLO; the master then registers it and tells the hop to route it.
pub async fn connect_via(
    hop: &Arc<Connection>,
    id: u32,
    name: String,
    launch: HopLaunch,
) -> Result<Arc<Connection>, ConnectError> {
    let unavailable = |detail: String| ConnectError::HopUnavailable {
        context: name.clone(),
        hop: hop.name().to_string(),
        detail,
    };
    if let Some(end) = hop.ended() {
        return Err(unavailable(end.to_string()));
    }
    become_parent(hop)
        .await
        .map_err(|e| unavailable(format!("it could not become a parent: {e}")))?;
    let settings: ConnectionSettings = hop.settings().clone();
    let path = hop.path();
    for pair in path.windows(2) {
        control(&pair[0], &("route", id, pair[1].id()))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
    }
    let outcome = start(hop, id, &name, &launch, &settings).await;
    let connection = match outcome {
        Ok((facts, verification)) => Arc::new(Connection::routed(
            id,
            name.clone(),
            hop.clone(),
            facts,
            verification,
        )),
        Err(error) => {
            forget_routes(hop, id);
            return Err(error);
        }
    };
    hop.routes().insert(&connection);
    hop.add_child(&connection);
    if let Err(error) = control(hop.as_ref(), &("start", id)).await {
        connection.end_routed(EndReason::HopEnded {
            hop: hop.name().to_string(),
            detail: error.to_string(),
        });
        return Err(unavailable(error.to_string()));
    }
    Ok(connection)
}

/// Send the password and the plan, wait for the report, check the new context's
/// configuration.
async fn start(
    hop: &Arc<Connection>,
    id: u32,
    name: &str,
    launch: &HopLaunch,
    settings: &ConnectionSettings,
) -> Result<(ChildFacts, crate::startup::Verification), ConnectError> {
    let unavailable = |detail: String| ConnectError::HopUnavailable {
        context: name.to_string(),
        hop: hop.name().to_string(),
        detail,
    };
    let config = BootConfig {
        context_id: id,
        parent_id: 0,
        max_message_size: settings.max_message_size as u64,
        startup: launch.startup_plan.first_stage.clone(),
        preload: BootConfig::preload_for(&launch.startup_plan.first_stage),
        always_from_parent: settings
            .requests
            .as_ref()
            .map(|r| r.always_from_parent())
            .unwrap_or_default(),
    };
    let boot = to_body(&config)
        .map_err(|e| unavailable(e.to_string()))?
        .into_contiguous();
    if let Some(password) = &launch.password {
        control(hop.as_ref(), &("password", id, password.expose()))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
    }
    let request = to_body(&("connect", id, &launch.plan, ByteBuf::from(boot)))
        .map_err(|e| unavailable(e.to_string()))?;
    let waited = launch.plan.connect_timeout() + REPLY_MARGIN;
    let program = PathBuf::from(launch.plan.argv.first().cloned().unwrap_or_default());
    let reply = match tokio::time::timeout(waited, hop.request(HOP, request)).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => return Err(unavailable(error.to_string())),
        Err(_) => {
            let _ = control(hop.as_ref(), &("stop", id, 0u64)).await;
            return Err(ConnectError::Timeout {
                context: name.to_string(),
                program,
                stage: BootStage::Loader,
                waited,
                stderr: String::new(),
            });
        }
    };
    let limits = &settings.decode_limits;
    let report = from_body::<Value>(&reply.1, limits)
        .map_err(|e| unavailable(format!("undecodable report: {e}")))?;
    let items = match report {
        Value::Tuple(items) => items,
        other => return Err(unavailable(format!("unexpected report {other:?}"))),
    };
    match items.as_slice() {
        [ok, Value::Bytes(hello)] if text_of(ok) == Some("ok") => {
            let facts = from_body::<ChildFacts>(hello, limits)
                .map_err(|e| unavailable(format!("undecodable HELLO: {e}")))?;
            match check_startup(name, &launch.startup, &launch.startup_plan, &facts) {
                Ok(verification) => Ok((facts, verification)),
                Err(error) => {
                    let _ = control(hop.as_ref(), &("stop", id, 0u64)).await;
                    Err(error)
                }
            }
        }
        [error, kind, Value::Dict(details)] if text_of(error) == Some("error") => Err(start_error(
            name,
            &launch.plan,
            program,
            text_of(kind).unwrap_or(""),
            details,
        )),
        other => Err(unavailable(format!("unexpected report {other:?}"))),
    }
}

/// A hop's report of a failed start, as the error the master would give for the
/// same failure of its own child.
fn start_error(
    name: &str,
    plan: &HopPlan,
    program: PathBuf,
    kind: &str,
    details: &[(Value, Value)],
) -> ConnectError {
    let get = |key: &str| {
        details
            .iter()
            .find(|(k, _)| text_of(k) == Some(key))
            .map(|(_, v)| v)
    };
    let text = |key: &str| match get(key) {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    let bytes = |key: &str| match get(key) {
        Some(Value::Bytes(b)) => b.to_vec(),
        Some(Value::Str(s)) => s.clone().into_bytes(),
        _ => Vec::new(),
    };
    let stage = match text("stage").as_str() {
        "core" => BootStage::Core,
        "hello" => BootStage::Hello,
        _ => BootStage::Loader,
    };
    let status = match get("status") {
        Some(Value::Tuple(pair)) => match pair.as_slice() {
            [Value::Int(code), _] => Some(ExitStatus::Code(*code as i32)),
            [_, Value::Int(signal)] => Some(ExitStatus::Signal {
                signal: *signal as i32,
                core_dumped: false,
            }),
            _ => None,
        },
        _ => None,
    };
    let stderr = text("stderr").trim_end().to_string();
    let failure = match kind {
        "timeout" => None,
        "eof" => Some(Failure::Ready(ReadyFailure::Eof {
            output: bytes("output"),
        })),
        "too_much" => Some(Failure::Ready(ReadyFailure::TooMuchOutput {
            output: bytes("output"),
        })),
        "after_marker" => Some(Failure::Ready(ReadyFailure::OutputAfterMarker)),
        "need_password" => Some(Failure::Ready(ReadyFailure::Prompt(
            PromptVerdict::NeedPassword {
                prompt: text("prompt"),
            },
        ))),
        "unknown_prompt" => Some(Failure::Ready(ReadyFailure::UnknownPrompt {
            seen: text("seen"),
            waited: Duration::from_millis(match get("waited_ms") {
                Some(Value::Int(ms)) => (*ms).max(0) as u64,
                _ => plan.prompts.unknown_prompt_ms,
            }),
        })),
        "prompt" => Some(Failure::Ready(ReadyFailure::Prompt(
            PromptVerdict::Failed {
                kind: failure_kind(&text("failure")),
                line: text("line"),
            },
        ))),
        _ => Some(Failure::Detail(text("detail"))),
    };
    let label = HopLabel {
        method: plan.method.clone(),
        target: plan.target.clone(),
        python: plan.python.clone(),
    };
    if let Some(failure) = &failure
        && let Some(error) = hop_error(
            name,
            &label,
            &plan.prompts.failures,
            failure,
            &stderr,
            stage,
            None,
        )
    {
        return error;
    }
    match failure {
        Some(failure) => ConnectError::Bootstrap {
            context: name.to_string(),
            program,
            stage,
            status,
            detail: failure.describe(),
            stderr,
        },
        None => ConnectError::Timeout {
            context: name.to_string(),
            program,
            stage,
            waited: plan.connect_timeout(),
            stderr,
        },
    }
}

/// A str, or bytes that are UTF-8 (what a Python 2 hop sends for its literals).
fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Str(text) => Some(text),
        Value::Bytes(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

fn failure_kind(name: &str) -> FailureKind {
    match name {
        "NotPermitted" => FailureKind::NotPermitted,
        "HostKey" => FailureKind::HostKey,
        "Unreachable" => FailureKind::Unreachable,
        "PythonMissing" => FailureKind::PythonMissing,
        _ => FailureKind::Authentication,
    }
}

/// A notice from `hop` about one of the contexts it started.
pub(crate) fn notice(hop: &Connection, body: &Bytes) {
    let limits = &hop.settings().decode_limits;
    let items = match from_body::<Value>(body, limits) {
        Ok(Value::Tuple(items)) => items,
        Ok(_) => return hop.drop_undecodable("hop notice", &not_a_tuple()),
        Err(error) => return hop.drop_undecodable("hop notice", &error),
    };
    let (op, id) = match items.as_slice() {
        [op, Value::Int(id), ..] if text_of(op).is_some() => (text_of(op).unwrap_or(""), *id),
        _ => return hop.drop_undecodable("hop notice", &not_a_tuple()),
    };
    let Some(child) = u32::try_from(id).ok().and_then(|id| hop.child(id)) else {
        hop.dropped().unexpected.fetch_add(1, Ordering::Relaxed);
        return;
    };
    match (op, &items[2..]) {
        ("ended", [code, signal]) => {
            let status = match (code, signal) {
                (Value::Int(code), _) => Some(ExitStatus::Code(*code as i32)),
                (_, Value::Int(signal)) => Some(ExitStatus::Signal {
                    signal: *signal as i32,
                    core_dumped: false,
                }),
                _ => None,
            };
            child.end_routed(match status {
                Some(status) => EndReason::Exited(status),
                None => EndReason::Disconnected { status: None },
            });
        }
        ("dropped", [Value::Int(count)]) => {
            child
                .dropped()
                .spoofed
                .fetch_add((*count).max(0) as u64, Ordering::Relaxed);
        }
        ("stderr", [Value::Bytes(data)]) => child.emit(OutputStream::Stderr, data, None),
        _ => hop.drop_undecodable("hop notice", &not_a_tuple()),
    }
}

fn not_a_tuple() -> crate::wire::DecodeError {
    crate::wire::DecodeError::Message {
        offset: None,
        message: "not a hop notice".into(),
    }
}

/// Ask `parent` to stop `context` (close its input, hang up its terminal,
/// SIGTERM, SIGKILL, each after `grace`; zero kills at once) and wait, bounded,
/// for the hop to report its end.
pub(crate) async fn stop_within(context: &Connection, parent: &Arc<Connection>, grace: Duration) {
    let grace_ms: u64 = grace.as_millis().try_into().unwrap_or(u64::MAX);
    if control(parent.as_ref(), &("stop", context.id(), grace_ms))
        .await
        .is_ok()
        && tokio::time::timeout(grace * 3 + STOP_MARGIN, context.wait_end())
            .await
            .is_ok()
    {
        return;
    }
    context.end_routed(EndReason::HopEnded {
        hop: parent.name().to_string(),
        detail: "it did not report the context's end".into(),
    });
}

/// Tell the hops above `parent` that `id` is gone (`parent` drops its own route
/// when its child ends). Best effort: a hop that is gone needs no telling.
pub(crate) fn forget_routes(parent: &Arc<Connection>, id: u32) {
    let path = parent.path();
    if path.len() < 2 {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        for hop in &path[..path.len() - 1] {
            if hop.ended().is_none() {
                let _ = control(hop.as_ref(), &("unroute", id)).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_passwords_reported_by_a_hop_read_as_the_masters_own() {
        let plan = HopPlan {
            method: "sudo".into(),
            target: "user pf".into(),
            python: "python3".into(),
            argv: vec!["sudo".into()],
            env: HopEnv::default(),
            terminal: TerminalMode::ControllingTty,
            payload: PayloadTiming::AfterReady,
            prompts: PromptRules::default(),
            nonce: "0123456789ab".into(),
            connect_timeout_ms: 1000,
            cwd: None,
        };
        let details = vec![
            (
                Value::Str("failure".into()),
                Value::Str("Authentication".into()),
            ),
            (
                Value::Str("line".into()),
                Value::Str("sorry, try again.".into()),
            ),
            (Value::Str("stage".into()), Value::Str("loader".into())),
        ];
        let error = start_error("sudo.3", &plan, "sudo".into(), "prompt", &details);
        assert!(
            matches!(error, ConnectError::AuthenticationFailed { .. }),
            "{error}"
        );
        let details = vec![(
            Value::Str("status".into()),
            Value::Tuple(vec![Value::None, Value::Int(9)]),
        )];
        let error = start_error("x", &plan, "sudo".into(), "detail", &details);
        assert!(error.to_string().contains("SIGKILL"), "{error}");
    }
}
