//! `pyfleet inspect -i INVENTORY PATTERN`: how each selected host would be
//! reached, without connecting to any.

use std::path::Path;

use pyfleet_inventory::{HostPlan, Target};

use crate::{EXIT_CONTEXT_FAILED, EXIT_USAGE};

/// Print the plans; exit 2 for a bad inventory or pattern, 3 when a host's
/// settings do not make a launch plan.
pub fn run(inventory: &Path, pattern: &str, json: bool) -> u8 {
    let plans = match pyfleet_inventory::load(inventory).and_then(|inv| inv.plans(pattern)) {
        Ok(plans) => plans,
        Err(error) => {
            eprintln!("pyfleet: {error}");
            return EXIT_USAGE;
        }
    };
    let mut failed = false;
    let mut reports = Vec::new();
    for plan in &plans {
        match hop_commands(plan) {
            Ok(commands) => reports.push((plan, commands)),
            Err(message) => {
                eprintln!("pyfleet: host {}: {message}", plan.name);
                failed = true;
            }
        }
    }
    if json {
        let hosts: Vec<serde_json::Value> = reports
            .iter()
            .map(|(plan, commands)| {
                serde_json::json!({
                    "host": plan.name,
                    "groups": plan.groups,
                    "route": plan.route(),
                    "commands": commands,
                    "vars": plan.vars.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&hosts).unwrap_or_default()
        );
    } else {
        for (plan, commands) in &reports {
            println!("{}", plan.name);
            println!("  groups   {}", plan.groups.join(" "));
            println!("  route    {}", plan.route());
            for command in commands {
                println!("  runs     {}", command.join(" "));
            }
            for (key, value) in &plan.vars {
                println!("  var      {key} = {value}");
            }
        }
    }
    if failed { EXIT_CONTEXT_FAILED } else { 0 }
}

/// Each hop's command line, the loader elided; a local host's interpreter.
fn hop_commands(plan: &HostPlan) -> Result<Vec<Vec<String>>, String> {
    match &plan.target {
        Target::Local(_) => Ok(vec![vec!["<local interpreter>".to_string()]]),
        Target::Hops(hops) => hops
            .iter()
            .map(|planned| {
                // A hop with a password runs differently (ssh leaves batch mode);
                // the plan never holds the password itself, so a stand-in will do.
                let hop = match planned.password {
                    pyfleet_inventory::Secret::None => planned.hop.clone(),
                    _ => planned
                        .hop
                        .clone()
                        .with_password(pyfleet::method::Password::new("stand-in"))
                        .map_err(|e| e.to_string())?,
                };
                let mut argv = hop.plan().map_err(|e| e.to_string())?.argv;
                if let Some(last) = argv.last_mut() {
                    *last = "<pyfleet loader>".to_string();
                }
                Ok(argv)
            })
            .collect(),
    }
}
