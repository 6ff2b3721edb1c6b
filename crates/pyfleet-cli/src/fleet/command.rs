//! The part every fleet command shares: load, plan, gather passwords, run,
//! report, choose the exit status.

use std::io::Write;
use std::time::Instant;

use super::output::FleetOutput;
use super::passwords;
use super::report::{HostOutcome, Totals, host_json, human_summary, summary_json};
use super::runner::{RunSettings, run};
use super::{FleetArgs, Job};

/// Run `job` on the hosts `args` selects and report; returns the exit status.
pub async fn run_on_fleet(
    args: &FleetArgs,
    job: Job,
    modules: Option<pyfleet::ModuleServer>,
) -> u8 {
    run_on_hosts(&args.inventory, &args.pattern, &args.run, job, modules).await
}

/// Run `job` on the hosts `pattern` selects in `inventory` and report.
pub async fn run_on_hosts(
    inventory: &std::path::Path,
    pattern: &str,
    args: &super::args::RunOptions,
    job: Job,
    modules: Option<pyfleet::ModuleServer>,
) -> u8 {
    let (_inventory, plans) = match super::args::plans(inventory, pattern) {
        Ok(found) => found,
        Err(message) => return crate::commands::usage_error(message),
    };
    let secrets = passwords::gather(&plans);
    let machine = args.json || args.jsonl;
    let progress = super::progress::Progress::new(plans.len(), machine);
    let output = FleetOutput::new((!machine).then(|| progress.clone()));
    let settings = RunSettings {
        forks: args.forks as usize,
        timeout: args.host_timeout(),
        retries: args.retries,
    };
    let started = Instant::now();
    let jsonl = args.jsonl;
    let on_done = |done: usize, outcome: &HostOutcome| {
        progress.finished(done, outcome, machine);
        if jsonl {
            print_json_line(&host_json(outcome));
        }
    };
    let outcomes = run(plans, secrets, job, &settings, modules, output, on_done).await;
    progress.finish();
    let elapsed = started.elapsed();
    if args.json {
        let document = serde_json::json!({
            "hosts": outcomes.iter().map(host_json).collect::<Vec<_>>(),
            "summary": summary_json(&outcomes, elapsed),
        });
        print_json_line(&document);
    } else if jsonl {
        for outcome in outcomes
            .iter()
            .filter(|o| o.status == super::Status::Interrupted)
        {
            print_json_line(&host_json(outcome));
        }
        print_json_line(&serde_json::json!({ "summary": summary_json(&outcomes, elapsed) }));
    } else {
        super::output::write_stdout(&human_summary(&outcomes, elapsed));
    }
    Totals::of(&outcomes).exit_code()
}

fn print_json_line(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}").and_then(|()| out.flush());
}
