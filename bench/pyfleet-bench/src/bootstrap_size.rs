//! Bytes a child receives before the core runs: its argv (the loader travels on
//! the command line) and the core payload written to its stdin. The boot
//! configuration frame that follows is left out here; bench/spawn_breakdown.py
//! counts everything the master writes before HELLO.

use std::path::PathBuf;

use pyfleet::bootstrap::{Nonce, core_modules, core_payload, core_table_len, loader_source};
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct BootstrapSizeArgs {
    #[arg(long, default_value = "/usr/bin/python3.11")]
    pub python: PathBuf,
    /// Count `-I -S` in argv.
    #[arg(long)]
    pub isolated: bool,
}

/// argv bytes are the sum of each argument's length (no NUL terminators), the
/// same rule the mitogen measurement uses.
pub fn run(args: BootstrapSizeArgs) -> anyhow::Result<Value> {
    let payload = core_payload();
    let loader = loader_source(&Nonce::random(), payload.len());
    let mut argv: Vec<String> = vec![args.python.to_string_lossy().into_owned()];
    if args.isolated {
        argv.extend(["-I".to_string(), "-S".to_string()]);
    }
    argv.extend(["-c".to_string(), loader.clone()]);
    let argv_bytes: usize = argv.iter().map(String::len).sum();
    let modules: Vec<Value> = core_modules()
        .iter()
        .map(|m| json!({"name": m.name, "source": m.source_len, "minified": m.minified_len}))
        .collect();
    Ok(json!({
        "bench": "bootstrap-size",
        "unit": "bytes",
        "variant": {"python": args.python, "isolated": args.isolated},
        "argv_bytes": argv_bytes,
        "loader_bytes": loader.len(),
        "payload_bytes": payload.len(),
        "total": argv_bytes + payload.len(),
        "payload_uncompressed_bytes": core_table_len(),
        "modules": modules,
    }))
}
