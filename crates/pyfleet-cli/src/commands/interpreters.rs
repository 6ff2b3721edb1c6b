//! `pyfleet interpreters`: what discovery finds on this machine.

use pyfleet::startup::{
    CacheOrigin, DiscoveryCache, Interpreter, LocalDiscovery, VersionConstraint,
};

use crate::{EXIT_CONTEXT_FAILED, EXIT_USAGE};

#[derive(clap::Args, Debug)]
pub struct InterpretersArgs {
    /// Only those matching SPEC (">=3.8", "pypy", "3.11"); the first is the pick.
    #[arg(value_name = "SPEC")]
    spec: Option<String>,
    /// Probe again instead of using the cache.
    #[arg(long)]
    refresh: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: InterpretersArgs) -> u8 {
    let constraint: VersionConstraint = match args.spec.as_deref().map(str::parse).transpose() {
        Ok(constraint) => constraint.unwrap_or_else(VersionConstraint::any),
        Err(error) => {
            eprintln!("pyfleet: {error}");
            return EXIT_USAGE;
        }
    };
    let cache = DiscoveryCache::global();
    let probe = LocalDiscovery::new();
    let found = if args.refresh {
        cache.refresh_local(&probe).await
    } else {
        cache.local(&probe).await
    };
    let found = match found {
        Ok(found) => found,
        Err(error) => {
            eprintln!("pyfleet: {error}");
            return EXIT_CONTEXT_FAILED;
        }
    };
    let discovery = &found.discovery;
    let matching = discovery.matching(&constraint);
    if args.json {
        for interpreter in &matching {
            println!("{}", json_line(interpreter));
        }
        return if matching.is_empty() {
            EXIT_CONTEXT_FAILED
        } else {
            0
        };
    }
    if matching.is_empty() {
        match discovery.best(&constraint) {
            Err(error) => eprintln!("pyfleet: {error}"),
            Ok(_) => eprintln!("pyfleet: no interpreter matches {constraint}"),
        }
        return EXIT_CONTEXT_FAILED;
    }
    for interpreter in &matching {
        let venv = if interpreter.is_virtualenv {
            " (virtualenv)"
        } else {
            ""
        };
        let real = if interpreter.real_path != interpreter.path {
            format!(" -> {}", interpreter.real_path.display())
        } else {
            String::new()
        };
        println!(
            "{:<16} {}{real}{venv}",
            interpreter.target.to_string(),
            interpreter.path.display()
        );
    }
    for shim in &discovery.shims {
        if let Some(target) = &shim.target {
            println!(
                "{:<16} {} is a pyenv shim for {}",
                "shim",
                shim.shim.display(),
                target.display()
            );
        }
    }
    for skipped in &discovery.skipped {
        println!(
            "{:<16} {}: {}",
            "skipped",
            skipped.path.display(),
            skipped.reason
        );
    }
    let origin = match found.origin {
        CacheOrigin::Probe => "probed now",
        CacheOrigin::Memory | CacheOrigin::Disk => "from the cache; --refresh probes again",
    };
    println!("({} found, {origin})", matching.len());
    0
}

fn json_line(interpreter: &Interpreter) -> String {
    serde_json::json!({
        "implementation": interpreter.target.implementation.as_str(),
        "version": interpreter.target.version.to_string(),
        "path": interpreter.path,
        "real_path": interpreter.real_path,
        "executable": interpreter.executable,
        "prefix": interpreter.prefix,
        "virtualenv": interpreter.is_virtualenv,
    })
    .to_string()
}
