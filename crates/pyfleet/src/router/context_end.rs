//! How a context ended, in words a user can act on.

use std::fmt;

use crate::messages;
use crate::spawn::ExitStatus;

/// Why a context stopped serving calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The process exited (or was killed) on its own.
    Exited(ExitStatus),
    /// The stream closed but the process kept running; it was then stopped.
    Disconnected {
        /// How the process ended after it was stopped, if known.
        status: Option<ExitStatus>,
    },
    /// The child broke the protocol (garbage or a truncated frame); it was stopped.
    ProtocolViolation {
        /// What was wrong with the stream.
        detail: String,
        /// How the process ended after it was stopped, if known.
        status: Option<ExitStatus>,
    },
    /// The context was reached through a hop (a context that started it), and that
    /// hop ended, or the hop lost it without saying how.
    HopEnded {
        /// The hop's name.
        hop: String,
        /// How the hop ended, in words.
        detail: String,
    },
    /// The context was shut down by its owner.
    Shutdown,
    /// The broker shut down.
    BrokerShutdown,
}

/// A context's end: which context, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEnd {
    /// The context's name.
    pub context: String,
    /// Its process id, when it had one.
    pub pid: Option<u32>,
    /// Why it ended.
    pub reason: EndReason,
}

impl ContextEnd {
    /// True if the end came from a broker shutdown.
    pub fn is_broker_shutdown(&self) -> bool {
        self.reason == EndReason::BrokerShutdown
    }

    /// The exit status, when known.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        match &self.reason {
            EndReason::Exited(status) => Some(*status),
            EndReason::Disconnected { status } | EndReason::ProtocolViolation { status, .. } => {
                *status
            }
            _ => None,
        }
    }
}

impl fmt::Display for ContextEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "context {}", self.context)?;
        if let Some(pid) = self.pid {
            write!(f, " (pid {pid})")?;
        }
        match &self.reason {
            EndReason::Exited(status) => write!(f, " {status}"),
            EndReason::Disconnected { status } => {
                f.write_str(" closed its connection while still running and was stopped")?;
                if let Some(status) = status {
                    write!(f, " ({status})")?;
                }
                Ok(())
            }
            EndReason::ProtocolViolation { detail, status } => {
                write!(
                    f,
                    " sent invalid data ({}: {detail}) and was stopped",
                    messages::PROTOCOL_VIOLATION
                )?;
                if let Some(status) = status {
                    write!(f, " ({status})")?;
                }
                Ok(())
            }
            EndReason::HopEnded { hop, detail } => {
                write!(
                    f,
                    " was lost with the hop {hop} it was reached through: {detail}"
                )
            }
            EndReason::Shutdown => f.write_str(" was shut down"),
            EndReason::BrokerShutdown => f.write_str(" was stopped because its broker shut down"),
        }
    }
}
