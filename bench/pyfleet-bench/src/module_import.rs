//! Importing a 20-module package the child does not have, served by the master's
//! module forwarder: round trips per import (requests the master answered) and the
//! time, against the same interpreter importing the package from disk.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use pyfleet::{Broker, ModuleServer};
use serde_json::{Value, json};

use crate::setup::{ChildArgs, bounded, bounded_infallible};
use crate::stats::{summary, with};

#[derive(clap::Args, Debug)]
pub struct ModuleImportArgs {
    #[command(flatten)]
    pub child: ChildArgs,
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
    /// Modules in the package (its `__init__` imports them all).
    #[arg(long, default_value_t = 20)]
    pub modules: usize,
}

/// A package `benchpkg` of `count` modules of about 60 lines each; `__init__`
/// imports every one, as real packages do, so `import benchpkg` loads them all.
fn write_package(root: &Path, count: usize) -> anyhow::Result<()> {
    let package = root.join("benchpkg");
    std::fs::create_dir_all(&package)?;
    let mut init = String::new();
    for index in 0..count {
        init.push_str(&format!("from . import mod{index:02}\n"));
        let mut body =
            format!("\"\"\"Module {index} of the benchmark package.\"\"\"\nimport os\n\n");
        for function in 0..20 {
            body.push_str(&format!(
                "def f{function}(x, y=1):\n    \"\"\"A function.\"\"\"\n    return os.path.join(str(x), str(y * {function}))\n\n"
            ));
        }
        std::fs::write(package.join(format!("mod{index:02}.py")), body)?;
    }
    std::fs::write(package.join("__init__.py"), init)?;
    Ok(())
}

/// Each sample: a new context whose master serves the package; the clock runs
/// around `import benchpkg` (executed in the child, after a warm-up that loads
/// the core's exec and import-hook parts). The number of requests the
/// master answered for it is the round-trip count.
pub fn run(args: ModuleImportArgs) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    write_package(dir.path(), args.modules)?;
    let root: PathBuf = dir.path().to_path_buf();
    let (child, count) = (args.child.clone(), args.samples);
    let (remote, requests) = args.child.block_on(async move {
        let mut samples = Vec::with_capacity(count);
        let mut requests = Vec::new();
        for index in 0..=count {
            let server = ModuleServer::new().root(&root)?;
            let broker = Broker::builder().modules(server.clone()).build();
            let context =
                bounded("starting a context", broker.local(child.local_options())).await?;
            // Off the clock: the core's own on-demand parts (exec, the import
            // hook) load once per context, whatever is imported.
            let warm_up = "try:\n    import benchpkg_absent\nexcept ImportError:\n    pass";
            bounded("warming up", context.exec(warm_up)).await?;
            let before = server.requests_served();
            let start = Instant::now();
            bounded("importing benchpkg", context.exec("import benchpkg")).await?;
            let elapsed = start.elapsed().as_secs_f64();
            let served = server.requests_served() - before;
            bounded_infallible("shutting down", broker.shutdown()).await?;
            if index > 0 {
                samples.push(elapsed);
                requests.push(served);
            }
        }
        anyhow::Ok((samples, requests))
    })??;
    // The same interpreter importing from disk: without bytecode (-B, sources
    // compiled, as the forwarded import does) and with a warm __pycache__.
    let local = |flags: &[&str]| -> anyhow::Result<Vec<f64>> {
        let code =
            "import time\nt = time.perf_counter()\nimport benchpkg\nprint(time.perf_counter() - t)";
        let mut samples = Vec::new();
        for index in 0..=args.samples {
            let output = Command::new(&args.child.python)
                .args(flags)
                .args(["-c", code])
                .current_dir(dir.path())
                .env_remove("PYTHONDONTWRITEBYTECODE")
                .output()
                .context("running the local import")?;
            anyhow::ensure!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let seconds: f64 = String::from_utf8_lossy(&output.stdout).trim().parse()?;
            if index > 0 {
                samples.push(seconds);
            }
        }
        Ok(samples)
    };
    let from_source = local(&["-B"])?;
    let _warm_up = local(&[])?; // writes __pycache__
    let from_bytecode = local(&[])?;
    Ok(with(
        json!({
            "bench": "module-import",
            "unit": "s",
            "variant": args.child.describe(),
            "modules": args.modules,
            "requests_per_import": requests,
            "local_from_source": summary(&from_source),
            "local_from_bytecode": summary(&from_bytecode),
        }),
        summary(&remote),
    ))
}
