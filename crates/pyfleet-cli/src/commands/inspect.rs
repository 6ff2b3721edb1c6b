//! `pyfleet inspect`: the three start-up phases of an interpreter, side by side.

use std::fmt::Write;

use pyfleet::startup::{InheritEnv, StartupPlan, Verify};
use pyfleet::{ChildFacts, Value};

use crate::args::InterpreterArgs;
use crate::{EXIT_CONTEXT_FAILED, EXIT_REMOTE_ERROR};

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    interpreter: InterpreterArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Show how the hosts of this inventory are reached (with PATTERN), without
    /// connecting: groups, route, each hop's command line, variables.
    #[arg(
        short = 'i',
        long = "inventory",
        value_name = "FILE",
        requires = "pattern",
        conflicts_with = "via"
    )]
    inventory: Option<std::path::PathBuf>,
    /// With --inventory: the hosts (names, groups, globs, a:b, a:&b, a:!b).
    #[arg(value_name = "PATTERN", requires = "inventory")]
    pattern: Option<String>,
}

/// Exit status 0 if every setting is in effect, 1 if the child's report differs.
pub async fn run(mut args: InspectArgs) -> u8 {
    if let (Some(inventory), Some(pattern)) = (&args.inventory, &args.pattern) {
        return super::inspect_inventory::run(inventory, pattern, args.json);
    }
    // Show differences instead of refusing to start on them.
    if args.interpreter.startup.verify.as_deref() != Some("off") {
        args.interpreter.startup.verify = Some("warn".into());
    }
    let mut hops = match args.interpreter.hops() {
        Ok(hops) => hops,
        Err(message) => return super::usage_error(message),
    };
    let broker = pyfleet::Broker::new();
    // A chain: the hops before the last are started as usual; the last one is
    // the interpreter inspected.
    let last = hops.pop();
    let (plan, started) = match last {
        Some(hop) => match hop.launch_plan() {
            Ok(plan) if hops.is_empty() => (plan, broker.connect(hop).await),
            Ok(plan) => {
                let started = match super::connect_chain(&broker, hops).await {
                    Ok(parent) => parent.connect(hop).await,
                    Err(error) => Err(error),
                };
                (plan, started)
            }
            Err(error) => {
                eprintln!("pyfleet: {error}");
                return EXIT_CONTEXT_FAILED;
            }
        },
        None => {
            let options = match args.interpreter.local_options() {
                Ok(options) => options,
                Err(message) => return super::usage_error(message),
            };
            match options.plan().await {
                Ok(plan) => (plan, broker.local(options).await),
                Err(error) => {
                    eprintln!("pyfleet: {error}");
                    return EXIT_CONTEXT_FAILED;
                }
            }
        }
    };
    let ctx = match started {
        Ok(ctx) => ctx,
        Err(error) => {
            eprintln!("pyfleet: {error}");
            return EXIT_CONTEXT_FAILED;
        }
    };
    // A hop's own command line, its loader (the last word) elided.
    let via: Option<Vec<String>> = plan.hop.as_ref().map(|hop| {
        let mut argv = hop.argv.clone();
        if let Some(last) = argv.last_mut() {
            *last = "<pyfleet loader, or the target command holding it>".to_string();
        }
        argv
    });
    let effective = ctx.effective_config();
    let program = match &plan.hop {
        Some(hop) => format!("{} via {} to {}", hop.python, hop.method, hop.target),
        None => plan.spawn.program.display().to_string(),
    };
    if args.json {
        let report = serde_json::json!({
            "interpreter": program,
            "via": via,
            "launch": {
                "argv": launch_argv(&program, &plan.startup_plan),
                "env": &plan.startup_plan.env,
                "emulations": &plan.startup_plan.emulations,
            },
            "first_stage": &plan.startup_plan.first_stage,
            "effective": effective.facts,
            "checks": &effective.verification.checks,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        if let Some(argv) = &via {
            println!("via              {}\n", argv.join(" "));
        }
        print!(
            "{}",
            table(
                &program,
                &plan.startup_plan,
                effective.facts,
                effective.verification
            )
        );
    }
    let passed = effective.verification.passed() || plan.startup.verify == Verify::Off;
    broker.shutdown().await;
    if passed { 0 } else { EXIT_REMOTE_ERROR }
}

fn launch_argv(program: &str, plan: &StartupPlan) -> Vec<String> {
    std::iter::once(program.to_string())
        .chain(plan.args.iter().cloned())
        .chain(["-c".to_string(), "<pyfleet loader>".to_string()])
        .collect()
}

fn table(
    program: &str,
    plan: &StartupPlan,
    facts: &ChildFacts,
    verification: &pyfleet::startup::Verification,
) -> String {
    let mut out = String::new();
    let row = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "  {key:<14} {value}");
    };
    let _ = writeln!(out, "interpreter      {program} ({})\n", facts.describe());
    let _ = writeln!(out, "1. launch");
    row(&mut out, "argv", &launch_argv(program, plan).join(" "));
    let inherit = match &plan.env.inherit {
        InheritEnv::All => "everything".to_string(),
        InheritEnv::AllButPython => "everything but PYTHON* variables".to_string(),
        InheritEnv::Only(names) => format!("only {}", names.join(" ")),
    };
    row(&mut out, "env inherits", &inherit);
    for (key, value) in &plan.env.set {
        row(
            &mut out,
            "env sets",
            &format!("{}={}", key.to_string_lossy(), value.to_string_lossy()),
        );
    }
    for key in &plan.env.unset {
        row(&mut out, "env removes", &key.to_string_lossy());
    }
    for note in &plan.emulations {
        row(&mut out, "emulated", note);
    }
    let _ = writeln!(out, "\n2. first stage (the core, before any user code)");
    let stage = &plan.first_stage;
    let mut steps = 0;
    let mut step = |out: &mut String, key: &str, value: String| {
        steps += 1;
        row(out, key, &value);
    };
    if stage.safe_path {
        step(&mut out, "safe path", "sys.path[0] removed".into());
    }
    if let Some(path) = &stage.sys_path {
        step(&mut out, "sys.path", format!("{path:?}"));
    }
    if let Some(argv) = &stage.argv {
        step(&mut out, "sys.argv", format!("{argv:?}"));
    }
    if let Some(cwd) = &stage.cwd {
        step(&mut out, "cwd", cwd.clone());
    }
    if let Some(umask) = stage.umask {
        step(&mut out, "umask", format!("{umask:03o}"));
    }
    for (name, soft, hard) in &stage.rlimits {
        step(
            &mut out,
            "rlimit",
            format!("{name} soft={soft} hard={hard} (-1 unlimited, -2 kept)"),
        );
    }
    if steps == 0 {
        row(&mut out, "(none)", "");
    }
    let _ = writeln!(out, "\n3. effective (reported by the child)");
    row(&mut out, "executable", &facts.executable);
    row(&mut out, "prefix", &facts.prefix);
    row(&mut out, "pid", &facts.pid.to_string());
    let flags: Vec<String> = facts
        .flags
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Int(0) | Value::Bool(false)))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    row(
        &mut out,
        "sys.flags",
        &if flags.is_empty() {
            "(all off)".to_string()
        } else {
            flags.join(" ")
        },
    );
    row(&mut out, "sys.path", &format!("{:?}", facts.path));
    row(&mut out, "sys.argv", &format!("{:?}", facts.argv));
    row(&mut out, "cwd", &facts.cwd);
    row(&mut out, "umask", &format!("{:03o}", facts.umask));
    let enc = &facts.encodings;
    row(
        &mut out,
        "encodings",
        &format!(
            "filesystem={} stdout={:?} locale={:?}",
            enc.filesystem, enc.stdout, enc.locale
        ),
    );
    if !verification.checks.is_empty() {
        let _ = writeln!(out, "\nchecks");
        for check in &verification.checks {
            let verdict = if check.ok { "ok  " } else { "DIFF" };
            let _ = writeln!(
                out,
                "  {verdict} {:<22} {} = {} (asked {})",
                check.field, check.source, check.actual, check.expected
            );
        }
    }
    out
}
