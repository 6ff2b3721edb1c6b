//! Passwords for a fleet run, gathered before any host starts: environment
//! variables are read, and each distinct question is asked once on the terminal
//! (not once per host, and never in the middle of a progress bar).

use std::collections::HashMap;
use std::io::IsTerminal;

use pyfleet::method::Password;
use pyfleet_inventory::{HostPlan, Secret, Target};

/// Each plan's hops' passwords, in hop order, or why a host cannot have them.
pub type HopPasswords = Result<Vec<Option<Password>>, String>;

/// Resolve every secret of every plan.
pub fn gather(plans: &[HostPlan]) -> Vec<HopPasswords> {
    let mut asked: HashMap<String, Result<Password, String>> = HashMap::new();
    plans
        .iter()
        .map(|plan| {
            let Target::Hops(hops) = &plan.target else {
                return Ok(Vec::new());
            };
            hops.iter()
                .map(|planned| {
                    let what = format!("{} password", planned.hop.method_name());
                    match &planned.password {
                        Secret::None => Ok(None),
                        Secret::Inline(password) => Ok(Some(password.clone())),
                        Secret::Env(name) => Password::from_env(name)
                            .map(Some)
                            .map_err(|e| format!("{what}: {e}")),
                        Secret::Ask => asked
                            .entry(what.clone())
                            .or_insert_with(|| ask(&what))
                            .clone()
                            .map(Some),
                    }
                })
                .collect()
        })
        .collect()
}

fn ask(what: &str) -> Result<Password, String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "{what}: the inventory says ask_password, but stdin is not a terminal; use \
             password_env (an environment variable) instead"
        ));
    }
    Password::read_from_terminal(&format!("[pyfleet] {what} (asked once for the run): "))
        .map_err(|e| format!("{what}: {e}"))
}
