//! Builds the pack launcher (crate `pyfleet-stub`) with the workspace's
//! `release-small` profile, so that `pyfleet pack` can embed it: every pack starts
//! with a copy, so it is built small whatever profile builds `pyfleet` itself.
//!
//! The launcher is built by a nested `cargo build` in its own target directory
//! (next to this build's, so it is reused across debug, release and clippy builds
//! and never waits on this build's lock). `PYFLEET_STUB=/path/to/pyfleet-stub`
//! embeds a launcher built elsewhere instead.

use std::path::{Path, PathBuf};
use std::process::Command;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .ancestors()
        .nth(2)
        .expect("crates/pyfleet-cli sits two levels below the workspace");
    for input in [
        "crates/pyfleet-stub/src",
        "crates/pyfleet-stub/Cargo.toml",
        "crates/pyfleet-startup/src",
        "crates/pyfleet-startup/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=PYFLEET_STUB");

    let out_dir = PathBuf::from(env("OUT_DIR"));
    let embedded = out_dir.join("pyfleet-stub");
    let built = match std::env::var_os("PYFLEET_STUB") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_stub(workspace, &out_dir),
    };
    std::fs::copy(&built, &embedded).unwrap_or_else(|error| {
        panic!("cannot copy the pack launcher {}: {error}", built.display())
    });
    println!("cargo:rustc-env=PYFLEET_STUB_PATH={}", embedded.display());
}

/// Runs `cargo build -p pyfleet-stub --profile release-small` and returns the binary.
fn build_stub(workspace: &Path, out_dir: &Path) -> PathBuf {
    // OUT_DIR is TARGET_DIR[/TRIPLE]/PROFILE/build/pyfleet-cli-HASH/out.
    let target_root = out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR lies inside the target directory");
    let stub_target_dir = target_root.join("pyfleet-stub");
    let target = env("TARGET");
    let mut command = Command::new(env("CARGO"));
    command
        .args([
            "build",
            "--quiet",
            "-p",
            "pyfleet-stub",
            "--bin",
            "pyfleet-stub",
        ])
        .args(["--profile", "release-small"])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&stub_target_dir);
    let cross = target != env("HOST");
    if cross {
        command.args(["--target", &target]);
    }
    // This build's own settings are not the launcher's: clippy's wrapper and the
    // flags cargo computed for this crate stay out of the nested build.
    for variable in [
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        command.env_remove(variable);
    }
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("cannot run cargo to build the pack launcher: {error}"));
    assert!(
        status.success(),
        "building the pack launcher (cargo build -p pyfleet-stub --profile release-small) failed \
         ({status}); fix the error above, or set PYFLEET_STUB to a launcher built elsewhere"
    );
    let mut binary = stub_target_dir;
    if cross {
        binary.push(&target);
    }
    binary.join("release-small").join("pyfleet-stub")
}
