//! The fleet run itself: every host in parallel up to `--forks`, each bounded by
//! `--timeout`, connection failures retried as asked, Ctrl-C honoured: no new
//! host starts, running ones are stopped (their interpreters killed through the
//! broker's shutdown) and what finished is still reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pyfleet::{Broker, CallError, ModuleServer};
use pyfleet_inventory::HostPlan;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::connect::{connect, worth_retrying};
use super::job::Job;
use super::output::FleetOutput;
use super::passwords::HopPasswords;
use super::report::{Failure, HostOutcome, Status};

/// How the run behaves.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Hosts at once.
    pub forks: usize,
    /// Per-host bound, connecting included.
    pub timeout: Duration,
    /// Connection retries.
    pub retries: u32,
}

/// The first pause before a retry; it doubles, within the host's time bound.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Run `job` on every plan. Outcomes come back in inventory order; `on_done`
/// sees each as it finishes (for progress and JSON lines).
pub async fn run(
    plans: Vec<HostPlan>,
    passwords: Vec<HopPasswords>,
    job: Job,
    settings: &RunSettings,
    modules: Option<ModuleServer>,
    output: FleetOutput,
    mut on_done: impl FnMut(usize, &HostOutcome),
) -> Vec<HostOutcome> {
    let builder = Broker::builder().on_output(output.handler());
    let broker = match modules {
        Some(server) => builder.modules(server).build(),
        None => builder.build(),
    };
    let job = Arc::new(job);
    let slots = Arc::new(Semaphore::new(settings.forks.max(1)));
    let mut outcomes: Vec<Option<HostOutcome>> = vec![None; plans.len()];
    let mut tasks: JoinSet<(usize, HostOutcome)> = JoinSet::new();
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut interrupted = false;
    let mut done = 0;
    let mut queue = plans.iter().cloned().zip(passwords).enumerate();
    let mut next = queue.next();

    loop {
        if next.is_none() && tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut interrupt, if !interrupted => {
                interrupted = true;
                break;
            }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((index, outcome)) = joined {
                    done += 1;
                    output.flush_host(&outcome.host);
                    on_done(done, &outcome);
                    outcomes[index] = Some(outcome);
                }
            }
            permit = slots.clone().acquire_owned(), if next.is_some() => {
                let permit = permit.expect("the semaphore is never closed");
                let (index, (plan, passwords)) = next.take().expect("guarded by the condition");
                next = queue.next();
                let broker = broker.clone();
                let job = job.clone();
                let settings = settings.clone();
                let output = output.clone();
                tasks.spawn(async move {
                    let outcome = one_host(&broker, &plan, passwords, &job, &settings, &output).await;
                    drop(permit);
                    (index, outcome)
                });
            }
        }
    }

    if interrupted {
        tasks.abort_all();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, outcome)) = joined {
                outcomes[index] = Some(outcome);
            }
        }
    }
    // Interpreters of hosts still running (interrupted) are told to exit, then
    // killed after the grace period.
    broker.shutdown().await;
    plans
        .iter()
        .zip(outcomes)
        .map(|(plan, outcome)| {
            outcome.unwrap_or_else(|| HostOutcome {
                host: plan.name.clone(),
                route: plan.route(),
                status: Status::Interrupted,
                attempts: 0,
                elapsed: Duration::ZERO,
                value: None,
                repr: None,
                failure: Some(Failure {
                    kind: "interrupted".into(),
                    message: "the run was interrupted (Ctrl-C) before this host finished".into(),
                    traceback: None,
                }),
                output: output.take(&plan.name),
            })
        })
        .collect()
}

/// Connect (with retries), run the job, stop the context; all within the bound.
async fn one_host(
    broker: &Broker,
    plan: &HostPlan,
    passwords: HopPasswords,
    job: &Job,
    settings: &RunSettings,
    output: &FleetOutput,
) -> HostOutcome {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let mut outcome = HostOutcome {
        host: plan.name.clone(),
        route: plan.route(),
        status: Status::Unreachable,
        attempts: 0,
        elapsed: Duration::ZERO,
        value: None,
        repr: None,
        failure: None,
        output: String::new(),
    };
    let fail = |outcome: &mut HostOutcome, status, kind: &str, message: String| {
        outcome.status = status;
        outcome.failure = Some(Failure {
            kind: kind.to_string(),
            message,
            traceback: None,
        });
    };

    let passwords = match passwords {
        Ok(passwords) => passwords,
        Err(message) => {
            fail(&mut outcome, Status::Unreachable, "password", message);
            outcome.elapsed = started.elapsed();
            return outcome;
        }
    };
    let mut pause = RETRY_PAUSE;
    let ctx = loop {
        outcome.attempts += 1;
        match tokio::time::timeout_at(deadline, connect(broker, plan, &passwords)).await {
            Err(_) => {
                let message = format!(
                    "not connected within the host timeout ({:.0}s; --timeout)",
                    settings.timeout.as_secs_f64()
                );
                fail(&mut outcome, Status::Unreachable, "timeout", message);
                break None;
            }
            Ok(Ok(ctx)) => break Some(ctx),
            Ok(Err(error)) => {
                let again = worth_retrying(&error)
                    && outcome.attempts <= settings.retries
                    && tokio::time::Instant::now() + pause < deadline;
                if !again {
                    fail(
                        &mut outcome,
                        Status::Unreachable,
                        "connect",
                        error.to_string(),
                    );
                    break None;
                }
                tracing::info!(host = %plan.name, %error, "connection failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    };
    if let Some(ctx) = ctx {
        match tokio::time::timeout_at(deadline, job.run(&ctx)).await {
            Err(_) => {
                let message = format!(
                    "the job did not finish within the host timeout ({:.0}s; --timeout); its \
                     interpreter was stopped",
                    settings.timeout.as_secs_f64()
                );
                fail(&mut outcome, Status::Failed, "timeout", message);
            }
            Ok(Ok(result)) => {
                outcome.value = result.value;
                outcome.repr = result.repr;
                match result.exit {
                    Some(status) => fail(
                        &mut outcome,
                        Status::Failed,
                        "exit",
                        format!("the code called sys.exit({status})"),
                    ),
                    None => outcome.status = Status::Ok,
                }
            }
            Ok(Err(CallError::Remote(remote))) => {
                outcome.status = Status::Failed;
                outcome.failure = Some(Failure {
                    kind: remote.type_name.clone(),
                    message: remote.message.clone(),
                    traceback: Some(remote.traceback.clone()).filter(|t| !t.is_empty()),
                });
            }
            Ok(Err(other)) => fail(&mut outcome, Status::Failed, "lost", other.to_string()),
        }
        // The leaf, then each hop that started it: a host's chain ends with it.
        let mut next = Some(ctx);
        while let Some(ctx) = next {
            next = ctx.via();
            ctx.shutdown().await;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.output = output.take(&plan.name);
    outcome
}
