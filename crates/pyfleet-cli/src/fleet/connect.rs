//! Starting a host's context from its plan: a local interpreter, or a chain of
//! hops in which each context starts the next.

use pyfleet::method::{Hop, Password};
use pyfleet::{Broker, ConnectError, Context};
use pyfleet_inventory::{HostPlan, Target};

/// Whether trying again could help: the network or the far side failed, as
/// opposed to a refused password, an unknown prompt or a wrong setting.
pub fn worth_retrying(error: &ConnectError) -> bool {
    matches!(
        error,
        ConnectError::Spawn(_)
            | ConnectError::Bootstrap { .. }
            | ConnectError::Timeout { .. }
            | ConnectError::HopFailed { .. }
    )
}

/// The hops of `plan` with their passwords attached.
pub fn hops_with_passwords(
    hops: &[pyfleet_inventory::PlannedHop],
    passwords: &[Option<Password>],
) -> Result<Vec<Hop>, ConnectError> {
    hops.iter()
        .zip(passwords.iter().chain(std::iter::repeat(&None)))
        .map(|(planned, password)| match password {
            Some(password) => planned.hop.clone().with_password(password.clone()),
            None => Ok(planned.hop.clone()),
        })
        .collect()
}

/// Start the context of `plan`.
pub async fn connect(
    broker: &Broker,
    plan: &HostPlan,
    passwords: &[Option<Password>],
) -> Result<Context, ConnectError> {
    match &plan.target {
        Target::Local(options) => broker.local((**options).clone()).await,
        Target::Hops(planned) => {
            let hops = hops_with_passwords(planned, passwords)?;
            crate::commands::connect_chain(broker, hops).await
        }
    }
}
