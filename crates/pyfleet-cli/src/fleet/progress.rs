//! Progress of a fleet run: a bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::HostOutcome;

/// Shows hosts finishing. Cheap to clone.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
}

impl Progress {
    /// A bar on stderr when it is a terminal; otherwise a line per finished host
    /// on stderr (`quiet`: nothing, for JSON runs).
    pub fn new(total: usize, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} hosts {msg}",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar, total }
    }

    /// Count a finished host.
    pub fn finished(&self, done: usize, outcome: &HostOutcome, quiet: bool) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(done as u64);
                bar.set_message(format!("({} {})", outcome.host, outcome.status.word()));
            }
            None if !quiet => eprintln!(
                "[{done}/{}] {} {} ({:.2}s)",
                self.total,
                outcome.host,
                outcome.status.word(),
                outcome.elapsed.as_secs_f64()
            ),
            None => {}
        }
    }

    /// Print to stdout without tearing the bar.
    pub fn print_stdout(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| super::output::write_stdout(text)),
            None => super::output::write_stdout(text),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
