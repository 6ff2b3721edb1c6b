//! The account of a fleet run: each host's status and result, for people (a
//! summary table) and for machines (JSON, JSON lines).

use std::time::Duration;

use pyfleet::Value;
use serde_json::{Map, json};

use crate::json_out::to_json;

/// How a host's part of the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The job ran and returned.
    Ok,
    /// Connected, but the job raised, exited non-zero, timed out or lost its
    /// interpreter.
    Failed,
    /// Could not connect: host down, refused, wrong password, no interpreter.
    Unreachable,
    /// The run was interrupted before this host finished.
    Interrupted,
}

impl Status {
    /// The word used in every output format.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
            Status::Interrupted => "interrupted",
        }
    }
}

/// Why a host did not succeed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The exception's type, or what failed (`connect`, `timeout`, `exit`).
    pub kind: String,
    /// The message.
    pub message: String,
    /// The remote traceback, for exceptions.
    pub traceback: Option<String>,
}

/// One host's part of the run.
#[derive(Debug, Clone)]
pub struct HostOutcome {
    /// The inventory name.
    pub host: String,
    /// How it was reached (`ssh deploy@web1 → sudo user root`).
    pub route: String,
    /// How it ended.
    pub status: Status,
    /// Connection attempts made.
    pub attempts: u32,
    /// Time from its start to its end.
    pub elapsed: Duration,
    /// The job's value.
    pub value: Option<Value>,
    /// The value's repr, when it could not cross.
    pub repr: Option<String>,
    /// What went wrong.
    pub failure: Option<Failure>,
    /// What its code printed (JSON runs).
    pub output: String,
}

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub ok: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub interrupted: usize,
}

impl Totals {
    pub fn of(outcomes: &[HostOutcome]) -> Totals {
        let mut totals = Totals::default();
        for outcome in outcomes {
            match outcome.status {
                Status::Ok => totals.ok += 1,
                Status::Failed => totals.failed += 1,
                Status::Unreachable => totals.unreachable += 1,
                Status::Interrupted => totals.interrupted += 1,
            }
        }
        totals
    }

    /// The exit status: 0 all ok; 1 some failed; 3 some unreachable (failed or
    /// not); 130 interrupted.
    pub fn exit_code(self) -> u8 {
        if self.interrupted > 0 {
            130
        } else if self.unreachable > 0 {
            crate::EXIT_CONTEXT_FAILED
        } else if self.failed > 0 {
            crate::EXIT_REMOTE_ERROR
        } else {
            0
        }
    }
}

/// The value as JSON (through the CLI's one Value → JSON mapping).
fn value_json(value: &Value) -> serde_json::Value {
    serde_json::from_str(&to_json(value)).unwrap_or_else(|_| json!(to_json(value)))
}

/// One host as a JSON object.
pub fn host_json(outcome: &HostOutcome) -> serde_json::Value {
    let mut object = Map::new();
    object.insert("host".into(), json!(outcome.host));
    object.insert("route".into(), json!(outcome.route));
    object.insert("status".into(), json!(outcome.status.word()));
    object.insert("attempts".into(), json!(outcome.attempts));
    object.insert("elapsed_s".into(), json!(round_ms(outcome.elapsed)));
    object.insert(
        "result".into(),
        outcome
            .value
            .as_ref()
            .map_or(serde_json::Value::Null, value_json),
    );
    if let Some(repr) = &outcome.repr {
        object.insert("repr".into(), json!(repr));
    }
    object.insert(
        "error".into(),
        match &outcome.failure {
            None => serde_json::Value::Null,
            Some(f) => json!({"type": f.kind, "message": f.message, "traceback": f.traceback}),
        },
    );
    object.insert("output".into(), json!(outcome.output));
    serde_json::Value::Object(object)
}

/// The totals as a JSON object.
pub fn summary_json(outcomes: &[HostOutcome], elapsed: Duration) -> serde_json::Value {
    let totals = Totals::of(outcomes);
    json!({
        "hosts": outcomes.len(),
        "ok": totals.ok,
        "failed": totals.failed,
        "unreachable": totals.unreachable,
        "interrupted": totals.interrupted,
        "elapsed_s": round_ms(elapsed),
        "exit_code": totals.exit_code(),
    })
}

fn round_ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The summary for people: one line per host (and the traceback of each failed
/// one), then the totals.
pub fn human_summary(outcomes: &[HostOutcome], elapsed: Duration) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.host.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut text = String::new();
    for outcome in outcomes {
        let detail = match (&outcome.failure, &outcome.value, &outcome.repr) {
            (Some(failure), _, _) => format!("{}: {}", failure.kind, failure.message),
            (None, _, Some(repr)) => repr.clone(),
            (None, Some(value), None) => to_json(value),
            (None, None, None) => String::new(),
        };
        let first_line = detail.lines().next().unwrap_or_default();
        text.push_str(&format!(
            "{:width$}  {:11}  {:>7.2}s  {first_line}\n",
            outcome.host,
            outcome.status.word().to_uppercase(),
            outcome.elapsed.as_secs_f64(),
        ));
        let more: Vec<&str> = match &outcome.failure {
            Some(Failure {
                traceback: Some(traceback),
                ..
            }) => traceback.lines().collect(),
            _ => detail.lines().skip(1).collect(),
        };
        for line in more {
            text.push_str(&format!("{:width$}    {line}\n", ""));
        }
    }
    let totals = Totals::of(outcomes);
    let mut parts = vec![format!("{} ok", totals.ok)];
    for (count, word) in [
        (totals.failed, "failed"),
        (totals.unreachable, "unreachable"),
        (totals.interrupted, "interrupted"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {word}"));
        }
    }
    text.push_str(&format!(
        "{} host{}: {} in {:.2}s\n",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        parts.join(", "),
        elapsed.as_secs_f64()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(host: &str, status: Status) -> HostOutcome {
        HostOutcome {
            host: host.into(),
            route: "local".into(),
            status,
            attempts: 1,
            elapsed: Duration::from_millis(1500),
            value: (status == Status::Ok).then_some(Value::Int(42)),
            repr: None,
            failure: (status != Status::Ok).then(|| Failure {
                kind: "ZeroDivisionError".into(),
                message: "division by zero".into(),
                traceback: Some("Traceback (most recent call last):\n  line 1".into()),
            }),
            output: String::new(),
        }
    }

    #[test]
    fn exit_codes_rank_interruption_then_unreachable_then_failure() {
        let code = |statuses: &[Status]| {
            let outcomes: Vec<_> = statuses.iter().map(|s| outcome("h", *s)).collect();
            Totals::of(&outcomes).exit_code()
        };
        assert_eq!(code(&[Status::Ok]), 0);
        assert_eq!(code(&[Status::Ok, Status::Failed]), 1);
        assert_eq!(code(&[Status::Failed, Status::Unreachable]), 3);
        assert_eq!(code(&[Status::Unreachable, Status::Interrupted]), 130);
    }

    #[test]
    fn the_summary_names_each_host_and_counts() {
        let outcomes = [outcome("web1", Status::Ok), outcome("web2", Status::Failed)];
        let text = human_summary(&outcomes, Duration::from_secs(2));
        assert!(text.contains("web1  OK"), "{text}");
        assert!(text.contains("42"), "{text}");
        assert!(
            text.contains("ZeroDivisionError: division by zero"),
            "{text}"
        );
        assert!(
            text.contains("Traceback (most recent call last):"),
            "{text}"
        );
        assert!(
            text.ends_with("2 hosts: 1 ok, 1 failed in 2.00s\n"),
            "{text}"
        );
        let json = host_json(&outcomes[1]);
        assert_eq!(json["status"], "failed");
        assert_eq!(json["error"]["type"], "ZeroDivisionError");
        assert_eq!(
            summary_json(&outcomes, Duration::from_secs(2))["exit_code"],
            1
        );
    }
}
