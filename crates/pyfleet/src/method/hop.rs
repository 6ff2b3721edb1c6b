//! One hop: any method's options, in one type the broker (and a chain of hops on
//! the command line) can hold.

use super::common::{self, Method};
use super::{
    ChrootOptions, DoasOptions, DockerOptions, KubectlOptions, LxcOptions, NsenterOptions,
    PodmanOptions, SshOptions, SuOptions, SudoOptions, UnshareOptions,
};
use crate::error::ConnectError;
use crate::router::{HopPlan, LaunchPlan};

/// How to reach a new context, one method's options.
#[derive(Debug, Clone)]
pub enum Hop {
    /// sudo.
    Sudo(SudoOptions),
    /// su.
    Su(SuOptions),
    /// doas.
    Doas(DoasOptions),
    /// ssh.
    Ssh(SshOptions),
    /// podman exec.
    Podman(PodmanOptions),
    /// docker exec.
    Docker(DockerOptions),
    /// kubectl exec.
    Kubectl(KubectlOptions),
    /// lxc exec or incus exec.
    Lxc(LxcOptions),
    /// nsenter.
    Nsenter(NsenterOptions),
    /// unshare.
    Unshare(UnshareOptions),
    /// chroot.
    Chroot(ChrootOptions),
}

impl Hop {
    fn method(&self) -> &dyn Method {
        match self {
            Hop::Sudo(o) => o,
            Hop::Su(o) => o,
            Hop::Doas(o) => o,
            Hop::Ssh(o) => o,
            Hop::Podman(o) => o,
            Hop::Docker(o) => o,
            Hop::Kubectl(o) => o,
            Hop::Lxc(o) => o,
            Hop::Nsenter(o) => o,
            Hop::Unshare(o) => o,
            Hop::Chroot(o) => o,
        }
    }

    /// The method's name: "sudo", "ssh", "podman", …
    pub fn method_name(&self) -> &'static str {
        self.method().method_name()
    }

    /// What the hop reaches ("user postgres", "deploy@web1:2222"), for messages.
    pub fn target_label(&self) -> String {
        self.method().target_label()
    }

    /// The hop's plan as data (a fresh nonce each time): what would run, for
    /// inspection, and what a parent executes. Refuses, before anything starts,
    /// start-up settings the target cannot have and invalid options.
    pub fn plan(&self) -> Result<HopPlan, ConnectError> {
        common::plan_hop(self.method()).map(|(plan, _)| plan)
    }

    /// What a context executes to start this hop (see
    /// [`Context::connect`](crate::Context::connect)).
    pub fn hop_launch(&self) -> Result<crate::router::hops::HopLaunch, ConnectError> {
        let (plan, startup_plan) = common::plan_hop(self.method())?;
        let common = self.method().common_options();
        Ok(crate::router::hops::HopLaunch {
            plan,
            password: common.password.clone(),
            startup: common.startup.clone(),
            startup_plan,
        })
    }

    /// The master's launch plan for this hop.
    pub fn launch_plan(&self) -> Result<LaunchPlan, ConnectError> {
        common::launch_plan(self.method())
    }

    /// The same hop with `password` to type at its prompt; refused for methods
    /// that never prompt.
    pub fn with_password(mut self, password: crate::router::Password) -> Result<Hop, ConnectError> {
        let common = match &mut self {
            Hop::Sudo(o) => o.common_mut(),
            Hop::Su(o) => o.common_mut(),
            Hop::Doas(o) => o.common_mut(),
            Hop::Ssh(o) => o.common_mut(),
            other => {
                return Err(ConnectError::InvalidOption(format!(
                    "the {} method never asks for a password",
                    other.method_name()
                )));
            }
        };
        common.password = Some(password);
        Ok(self)
    }

    /// The shared settings, to change them whatever the method.
    pub fn common_mut(&mut self) -> &mut super::CommonOptions {
        match self {
            Hop::Sudo(o) => o.common_mut(),
            Hop::Su(o) => o.common_mut(),
            Hop::Doas(o) => o.common_mut(),
            Hop::Ssh(o) => o.common_mut(),
            Hop::Podman(o) => o.common_mut(),
            Hop::Docker(o) => o.common_mut(),
            Hop::Kubectl(o) => o.common_mut(),
            Hop::Lxc(o) => o.common_mut(),
            Hop::Nsenter(o) => o.common_mut(),
            Hop::Unshare(o) => o.common_mut(),
            Hop::Chroot(o) => o.common_mut(),
        }
    }

    /// The context's name, given the id the broker allocated: as set, else
    /// "METHOD.ID".
    pub fn context_name(&self, id: u32) -> String {
        self.method()
            .common_options()
            .name
            .clone()
            .unwrap_or_else(|| format!("{}.{id}", self.method_name()))
    }
}

macro_rules! hop_from {
    ($($options:ident => $variant:ident),* $(,)?) => {
        $(impl From<$options> for Hop {
            fn from(options: $options) -> Hop {
                Hop::$variant(options)
            }
        })*
    };
}

hop_from!(
    SudoOptions => Sudo,
    SuOptions => Su,
    DoasOptions => Doas,
    SshOptions => Ssh,
    PodmanOptions => Podman,
    DockerOptions => Docker,
    KubectlOptions => Kubectl,
    LxcOptions => Lxc,
    NsenterOptions => Nsenter,
    UnshareOptions => Unshare,
    ChrootOptions => Chroot,
);
