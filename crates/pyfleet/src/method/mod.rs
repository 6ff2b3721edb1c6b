//! How a child is reached. Each method turns its options into a launch plan that the
//! router's connect routine carries out.
//!
//! [`LocalOptions`] starts an interpreter on this machine. Every other method
//! (sudo, su, doas, ssh, podman, docker, kubectl, lxc/incus, nsenter, unshare,
//! chroot) builds a [`HopPlan`](crate::router::HopPlan): plain data — the argv with
//! the loader, the environment rule, the terminal arrangement, prompt rules, when
//! the core may be sent, a time bound — that the master executes, and that a
//! Python core can execute too when hops chain. [`Hop`] holds any one of them.
//!
//! The interpreter on the target defaults to `python3` (its `PATH` decides; only
//! this machine is probed by discovery). Start-up settings that depend on the
//! interpreter's version need [`python_target`](SshOptions::python_target): the
//! target is not probed before the start, and a wrong version is caught when the
//! child reports its own.

mod chroot;
mod common;
mod container_exec;
mod doas;
mod docker;
mod hop;
pub mod interpreter;
mod kubectl;
pub mod local;
mod lxc;
mod namespaces;
mod nsenter;
mod podman;
mod spec;
mod ssh;
mod ssh_control;
mod su;
mod sudo;
mod target_command;
mod unshare;

pub use chroot::ChrootOptions;
pub use common::{
    CommonOptions, DEFAULT_HOP_TIMEOUT, DEFAULT_TARGET_PYTHON, DEFAULT_UNKNOWN_PROMPT,
};
pub use doas::DoasOptions;
pub use docker::DockerOptions;
pub use hop::Hop;
pub use kubectl::KubectlOptions;
pub use local::LocalOptions;
pub use lxc::LxcOptions;
pub use namespaces::Namespace;
pub use nsenter::NsenterOptions;
pub use podman::PodmanOptions;
pub use spec::{HopSpec, PasswordSource, apply_common_option, hop_from_parts, parse_hop};
pub use ssh::{HostKeyPolicy, SshOptions};
pub use su::SuOptions;
pub use sudo::SudoOptions;
pub use target_command::sh_quote;
pub use unshare::UnshareOptions;

pub use crate::router::Password;
