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
