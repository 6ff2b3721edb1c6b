//! The boot configuration: the first frame a child reads after the payload.

use serde::Serialize;

use bytes::Bytes;

use crate::startup::FirstStage;
use crate::wire::ByteBuf;

/// Settings the core needs before it can speak (python/pyfleet_core/boot.py).
#[derive(Debug, Clone, Serialize)]
pub struct BootConfig {
    /// The id the child uses as its source in every frame.
    pub context_id: u32,
    /// The id of its parent (0 = the master).
    pub parent_id: u32,
    /// Frames above this size are refused on both sides.
    pub max_message_size: u64,
    /// What the core applies before HELLO, and what extra facts it reports.
    pub startup: FirstStage,
    /// On-demand core modules sent along: (name, filename, zlib source, line map).
    pub preload: Vec<(String, String, ByteBuf, ByteBuf)>,
    /// Top-level packages imported from the parent even when the child has them.
    pub always_from_parent: Vec<String>,
}

impl BootConfig {
    /// The on-demand modules a child started with `stage` needs before HELLO:
    /// probes for the checks, firststage for steps to apply (the same steps
    /// boot.py's FIRST_STAGE_STEPS tests for).
    pub fn preload_for(stage: &FirstStage) -> Vec<(String, String, ByteBuf, ByteBuf)> {
        let mut names = Vec::new();
        if !stage.probes.is_empty() {
            names.push("probes");
        }
        let has_steps = stage.sys_path.is_some()
            || stage.argv.is_some()
            || stage.cwd.is_some()
            || stage.umask.is_some()
            || !stage.rlimits.is_empty();
        if has_steps {
            names.push("firststage");
        }
        BootConfig::preload(&names)
    }

    /// Preload rows for these on-demand modules.
    pub fn preload(names: &[&str]) -> Vec<(String, String, ByteBuf, ByteBuf)> {
        names
            .iter()
            .filter_map(|name| super::on_demand_module(name))
            .map(|m| {
                (
                    m.name.to_string(),
                    m.filename.to_string(),
                    ByteBuf::from(Bytes::from_static(m.on_demand.unwrap_or_default())),
                    ByteBuf::from(Bytes::from_static(m.line_map)),
                )
            })
            .collect()
    }
}

/// How a context runs the calls it receives.
///
/// - [`Executor::Serial`] (the default): one call at a time on the core's main
///   thread, **in the order the calls arrive**. A call from task A sent before a
///   call from task B runs (and finishes) before B's starts.
/// - [`Executor::Threads`]`(n)`: up to `n` calls run at once on worker threads of
///   the child. Calls *start* in arrival order, but there is **no ordering between
///   them**: they run concurrently and finish in any order; each result is matched
///   to its call by its reply handle. Python's GIL still serialises pure-Python
///   work; threads pay off for calls that wait (I/O, sleep, C code that releases
///   the GIL). A context with a threaded executor cannot [`fork`](crate::Context::fork).
///
/// The choice is made once, right after start-up ([`LocalOptions::executor`](crate::LocalOptions::executor)
/// or [`Context::set_executor`](crate::Context::set_executor)). It is not part of the
/// bootstrap payload: the thread pool is an on-demand core module
/// (python/pyfleet_core/executor.py), installed by one call when threads are asked
/// for, so serial contexts pay nothing for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Executor {
    /// One call at a time, in arrival order.
    #[default]
    Serial,
    /// Up to this many calls at once, no ordering between them.
    Threads(u16),
}
