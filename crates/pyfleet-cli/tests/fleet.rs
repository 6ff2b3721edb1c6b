//! `pyfleet run` and `pyfleet ping` over the test bed: three hosts in network
//! namespaces and the loopback sshd (real sshd, real keys, a real password
//! prompt), a local interpreter, a host that refuses connections.

#[path = "../../pyfleet/tests/support/testbed.rs"]
mod testbed;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use testbed::{Testbed, loopback_shared, testbed};

/// Bound on one fleet command.
const LIMIT: Duration = Duration::from_secs(120);

fn pyfleet(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pyfleet").unwrap();
    cmd.timeout(LIMIT)
        .current_dir(dir)
        .env_remove("PYFLEET_LOG")
        .env_remove("RUST_LOG");
    cmd
}

/// Settings every ssh host shares, for the TOML format.
fn ssh_defaults(bed: &Testbed) -> String {
    format!(
        "user = \"{}\"\nidentity = \"{}\"\nknown_hosts = \"{}\"\nhost_key = \"enforce\"\npython = \"{}\"\n",
        bed.ssh_key_user,
        bed.ssh_key.display(),
        bed.ssh_known_hosts.display(),
        bed.python_for_users.display(),
    )
}

/// The test bed as a pyfleet inventory: group `ns` (three namespace hosts),
/// `loop` (loopback sshd), `here` (local), `down` (refused), `badpw` (the
/// password user with a wrong password).
fn inventory(dir: &Path, bed: &Testbed) -> PathBuf {
    let mut text = format!("[defaults]\n{}\n[groups.ns]\nhosts = [", ssh_defaults(bed));
    let hosts = bed.netns_hosts();
    let names: Vec<String> = hosts.iter().map(|h| format!("\"{}\"", h.name)).collect();
    text.push_str(&names.join(", "));
    text.push_str("]\n");
    for host in &hosts {
        text.push_str(&format!(
            "[hosts.{}]\naddress = \"{}\"\nport = {}\n",
            host.name, host.address, host.port
        ));
    }
    text.push_str(&format!(
        "[hosts.loop]\naddress = \"{}\"\nport = {}\n\
         [hosts.here]\nmethod = \"local\"\npython = \"{}\"\n\
         [hosts.down]\naddress = \"{}\"\n\
         [hosts.badpw]\naddress = \"{}\"\nuser = \"{}\"\nidentity = \"/nonexistent\"\n\
         password_env = \"FLEET_TEST_WRONG_PASSWORD\"\n",
        bed.ssh_host,
        bed.ssh_port,
        bed.python_for_users.display(),
        bed.refused_address,
        hosts[0].address,
        bed.ssh_password_user,
    ));
    let path = dir.join("fleet.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json_run(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let output = pyfleet(dir)
        .args(args)
        .env("FLEET_TEST_WRONG_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let document = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}\n{stderr}"));
    (output.status.code().unwrap_or(-1), document, stderr)
}

fn host<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["hosts"]
        .as_array()
        .expect("a hosts array")
        .iter()
        .find(|h| h["host"] == name)
        .unwrap_or_else(|| panic!("no {name} in {document}"))
}

fn host_names(document: &Value) -> Vec<String> {
    document["hosts"]
        .as_array()
        .expect("a hosts array")
        .iter()
        .map(|h| h["host"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn one_run_reports_ok_unreachable_and_wrong_password_per_host() {
    let bed = testbed();
    let _sshd = loopback_shared();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let (code, doc, stderr) = json_run(
        dir.path(),
        &[
            "run",
            "-i",
            inv.to_str().unwrap(),
            "all",
            "--json",
            "-c",
            "import os\n(6 * 7, os.getpid())",
        ],
    );
    assert_eq!(
        code, 3,
        "unreachable hosts make exit status 3\n{doc:#}\n{stderr}"
    );
    let names = host_names(&doc);
    assert_eq!(names.len(), 7, "{names:?}");
    let mut pids = Vec::new();
    for name in bed
        .netns_names
        .iter()
        .map(String::as_str)
        .chain(["loop", "here"])
    {
        let h = host(&doc, name);
        assert_eq!(h["status"], "ok", "{name}: {h:#}");
        assert_eq!(h["result"][0], 42, "{name}: {h:#}");
        assert_eq!(h["attempts"], 1);
        pids.push(h["result"][1].as_u64().unwrap());
    }
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 5, "one interpreter per host: {pids:?}");

    let down = host(&doc, "down");
    assert_eq!(down["status"], "unreachable");
    assert!(
        down["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{down:#}"
    );
    let badpw = host(&doc, "badpw");
    assert_eq!(badpw["status"], "unreachable");
    let message = badpw["error"]["message"].as_str().unwrap();
    assert!(message.contains("authentication failed"), "{badpw:#}");
    assert!(
        !message.contains("not-the-password"),
        "the password is never shown: {message}"
    );
    assert_eq!(doc["summary"]["ok"], 5);
    assert_eq!(doc["summary"]["unreachable"], 2);
    assert_eq!(doc["summary"]["failed"], 0);
    assert_eq!(doc["summary"]["exit_code"], 3);
}

#[test]
fn the_summary_for_people_and_failures_that_raise() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let output = pyfleet(dir.path())
        .args(["run", "-i", inv.to_str().unwrap(), "ns:here", "-c"])
        .arg("import os\nprint('pid', os.getpid())\n1 / 0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "failures only: exit 1\n{stdout}\n{stderr}"
    );
    for name in bed.netns_names.iter().map(String::as_str).chain(["here"]) {
        assert!(
            stdout.contains(&format!("{name} | pid ")),
            "live output of {name}:\n{stdout}"
        );
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")) && l.contains("FAILED"))
            .unwrap_or_else(|| panic!("no summary line for {name}:\n{stdout}"));
        assert!(line.contains("ZeroDivisionError"), "{line}");
    }
    assert!(
        stdout.contains("Traceback (most recent call last):"),
        "{stdout}"
    );
    assert!(stdout.contains("4 hosts: 0 ok, 4 failed in "), "{stdout}");
    // Not a terminal: a plain line per host on stderr, no progress bar.
    assert!(stderr.contains("[4/4] "), "{stderr}");
}

#[test]
fn functions_and_modules_come_from_the_current_directory() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    std::fs::write(
        dir.path().join("fleettool.py"),
        "import socket\n\ndef answer(base, extra=0):\n    return base * 2 + extra\n",
    )
    .unwrap();
    let (code, doc, stderr) = json_run(
        dir.path(),
        &[
            "run",
            "-i",
            inv.to_str().unwrap(),
            "ns",
            "--json",
            "-m",
            "fleettool.answer",
            "20",
            "extra=2",
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    for name in &bed.netns_names {
        assert_eq!(host(&doc, name)["result"], 42, "{doc:#}");
    }
    // A remote host has only what is served (a local one would find
    // ./fleettool.py itself: sys.path[0] is its working directory).
    let remote = &bed.netns_names[0];
    let (code, doc, _) = json_run(
        dir.path(),
        &[
            "run",
            "-i",
            inv.to_str().unwrap(),
            remote,
            "--json",
            "--no-cwd-modules",
            "-m",
            "fleettool.answer",
            "1",
        ],
    );
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        host(&doc, remote)["error"]["type"],
        "ModuleNotFoundError",
        "{doc:#}"
    );
}

#[test]
fn patterns_select_hosts_and_a_typo_is_refused() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let excluded = &bed.netns_names[1];
    let pattern = format!("ns:!{excluded}");
    let (code, doc, stderr) = json_run(
        dir.path(),
        &["ping", "-i", inv.to_str().unwrap(), &pattern, "--json"],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let expected: Vec<String> = bed
        .netns_names
        .iter()
        .filter(|n| *n != excluded)
        .cloned()
        .collect();
    assert_eq!(host_names(&doc), expected);
    for name in &expected {
        let h = host(&doc, name);
        assert!(
            h["result"]["python"].as_str().unwrap().starts_with("3.11"),
            "{h:#}"
        );
        assert!(
            h["result"]["round_trip_ms"].as_f64().unwrap() > 0.0,
            "{h:#}"
        );
    }
    let output = pyfleet(dir.path())
        .args(["ping", "-i", inv.to_str().unwrap(), "ns:nss2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"nss2\" is neither a host nor a group"),
        "{stderr}"
    );
}

#[test]
fn ansible_ini_and_yaml_inventories_reach_the_same_hosts() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let hosts = bed.netns_hosts();
    let common = format!(
        "ansible_user={} ansible_ssh_private_key_file={} ansible_python_interpreter={} \
         ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes'",
        bed.ssh_key_user,
        bed.ssh_key.display(),
        bed.python_for_users.display(),
        bed.ssh_known_hosts.display()
    );
    let mut ini = String::from("[web]\n");
    let mut yaml = String::from("all:\n  children:\n    web:\n      hosts:\n");
    for host in &hosts {
        ini.push_str(&format!(
            "{} ansible_host={} {common}\n",
            host.name, host.address
        ));
        yaml.push_str(&format!(
            "        {}:\n          ansible_host: {}\n          ansible_user: {}\n          \
             ansible_ssh_private_key_file: {}\n          ansible_python_interpreter: {}\n          \
             ansible_ssh_common_args: -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\n",
            host.name,
            host.address,
            bed.ssh_key_user,
            bed.ssh_key.display(),
            bed.python_for_users.display(),
            bed.ssh_known_hosts.display()
        ));
    }
    ini.push_str("[local]\nbuilder ansible_connection=local\n");
    yaml.push_str(
        "    local:\n      hosts:\n        builder:\n          ansible_connection: local\n",
    );
    std::fs::write(dir.path().join("hosts.ini"), ini).unwrap();
    std::fs::write(dir.path().join("hosts.yml"), yaml).unwrap();
    let mut results = Vec::new();
    for file in ["hosts.ini", "hosts.yml"] {
        let (code, doc, stderr) = json_run(
            dir.path(),
            &[
                "run",
                "-i",
                file,
                "all",
                "--json",
                "-c",
                "import getpass\ngetpass.getuser()",
            ],
        );
        assert_eq!(code, 0, "{file}: {doc:#}\n{stderr}");
        let users: Vec<(String, String)> = doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["host"].as_str().unwrap().into(),
                    h["result"].as_str().unwrap().into(),
                )
            })
            .collect();
        results.push(users);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0].len(), hosts.len() + 1);
    assert!(
        results[0]
            .iter()
            .any(|(h, u)| h == "builder" && u == "root"),
        "{results:?}"
    );
    assert!(
        results[0]
            .iter()
            .filter(|(_, u)| *u == bed.ssh_key_user)
            .count()
            == hosts.len(),
        "{results:?}"
    );
}

#[test]
fn json_lines_timeouts_and_retries() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let output = pyfleet(dir.path())
        .args([
            "run",
            "-i",
            inv.to_str().unwrap(),
            "here:down",
            "--jsonl",
            "--timeout",
            "3",
            "--retries",
            "2",
        ])
        .args(["-c", "import time\ntime.sleep(30)"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "two hosts and a summary:\n{stdout}");
    let by_name = |name: &str| lines.iter().find(|l| l["host"] == name).unwrap().clone();
    let here = by_name("here");
    assert_eq!(here["status"], "failed", "{here:#}");
    assert_eq!(here["error"]["type"], "timeout", "{here:#}");
    let down = by_name("down");
    assert_eq!(down["status"], "unreachable", "{down:#}");
    assert_eq!(
        down["attempts"], 3,
        "refused connections are retried: {down:#}"
    );
    assert_eq!(lines[2]["summary"]["exit_code"], 3);
    assert_eq!(output.status.code(), Some(3));
}

/// Whether process `pid` exists.
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn ctrl_c_stops_the_run_kills_remote_interpreters_and_reports_what_finished() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let marks = dir.path().join("pids");
    std::fs::create_dir(&marks).unwrap();
    // The remote users must be able to write there.
    std::fs::set_permissions(&marks, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let code = format!(
        "import os, time\nopen('{}/%d' % os.getpid(), 'w').close()\n\
         time.sleep(0 if os.environ.get('FLEET_TEST_FAST') else 120)\n'done'",
        marks.display()
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pyfleet"))
        .args(["run", "-i", inv.to_str().unwrap(), "ns:here", "-c", &code])
        .current_dir(dir.path())
        .env("FLEET_TEST_FAST", "1") // reaches the local interpreter only
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let pids = loop {
        let pids: Vec<i32> = std::fs::read_dir(&marks)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
            .collect();
        if pids.len() == bed.netns_names.len() + 1 {
            break pids;
        }
        assert!(Instant::now() < deadline, "only {pids:?} started");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(300)); // the local host finishes
    // SAFETY: sending SIGINT to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("pyfleet did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("here ") && l.contains("OK") && l.contains("done")),
        "what finished is reported:\n{stdout}"
    );
    for name in &bed.netns_names {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name} ")) && l.contains("INTERRUPTED")),
            "{name}:\n{stdout}"
        );
    }
    assert!(stdout.contains("1 ok, 3 interrupted"), "{stdout}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while pids.iter().any(|pid| alive(*pid)) {
        assert!(
            Instant::now() < deadline,
            "remote interpreters still alive 15 s after the run stopped: {:?}",
            pids.iter().filter(|p| alive(**p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn inspect_shows_each_hosts_route_without_connecting() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let output = pyfleet(dir.path())
        .args([
            "inspect",
            "-i",
            inv.to_str().unwrap(),
            "down:badpw:here",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let hosts: Value = serde_json::from_slice(&output.stdout).unwrap();
    let by_name = |name: &str| {
        hosts
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == name)
            .unwrap()
            .clone()
    };
    let down = by_name("down");
    assert_eq!(
        down["route"],
        format!("ssh {}@{}", bed.ssh_key_user, bed.refused_address)
    );
    let command = down["commands"][0].as_array().unwrap();
    assert_eq!(command[0], "ssh");
    assert!(command.iter().any(|w| w == "BatchMode=yes"), "{down:#}");
    // A password hop leaves batch mode so that ssh prompts; nothing was typed.
    let badpw = by_name("badpw");
    assert!(
        badpw["commands"][0]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "BatchMode=no"),
        "{badpw:#}"
    );
    assert_eq!(by_name("here")["route"], "local");
}

/// `ssh -O check` on each control socket in `dir`: the masters' pids.
fn control_masters(dir: &Path) -> Vec<String> {
    let mut pids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let socket = entry.unwrap().path();
            let output = std::process::Command::new("ssh")
                .args(["-O", "check", "-S"])
                .arg(&socket)
                .arg("unused")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(
                text.contains("Master running"),
                "{}: {text}",
                socket.display()
            );
            text.split("pid=")
                .nth(1)
                .unwrap()
                .trim_end_matches([')', '\n', '\r'])
                .to_string()
        })
        .collect();
    pids.sort();
    pids
}

#[test]
fn control_masters_are_reused_across_runs_when_configured() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("ctl");
    let mut text = std::fs::read_to_string(inventory(dir.path(), &bed)).unwrap();
    text = text.replacen(
        "[defaults]\n",
        &format!(
            "[defaults]\nmux = 30\ncontrol_dir = \"{}\"\n",
            control.display()
        ),
        1,
    );
    let inv = dir.path().join("mux.toml");
    std::fs::write(&inv, text).unwrap();
    let (code, doc, stderr) = json_run(
        dir.path(),
        &["ping", "-i", inv.to_str().unwrap(), "ns", "--json"],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let first = control_masters(&control);
    assert_eq!(
        first.len(),
        bed.netns_names.len(),
        "one master per host: {first:?}"
    );
    let (code, doc, stderr) = json_run(
        dir.path(),
        &["ping", "-i", inv.to_str().unwrap(), "ns", "--json"],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(
        control_masters(&control),
        first,
        "the second run used the same masters"
    );
    for entry in std::fs::read_dir(&control).unwrap() {
        let _ = std::process::Command::new("ssh")
            .args(["-O", "exit", "-S"])
            .arg(entry.unwrap().path())
            .arg("unused")
            .output();
    }
}

#[test]
fn ssh_then_sudo_runs_as_the_become_user_and_a_wrong_password_fails_that_host_only() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let hosts = bed.netns_hosts();
    let mut text = format!("[defaults]\n{}\n", ssh_defaults(&bed));
    for (name, host, variable) in [
        ("becomes", &hosts[0], "FLEET_TEST_SUDO_PASSWORD"),
        ("badsudo", &hosts[1], "FLEET_TEST_WRONG_PASSWORD"),
    ] {
        text.push_str(&format!(
            "[hosts.{name}]\naddress = \"{}\"\nuser = \"{}\"\nbecome = \"sudo\"\n\
             become_user = \"{}\"\nbecome_password_env = \"{variable}\"\n",
            host.address, bed.sudo_user, bed.target_user
        ));
    }
    let inv = dir.path().join("become.toml");
    std::fs::write(&inv, text).unwrap();
    let output = pyfleet(dir.path())
        .args(["run", "-i", inv.to_str().unwrap(), "all", "--json", "-c"])
        .arg("import getpass, os\n(getpass.getuser(), os.getppid())")
        .env("FLEET_TEST_SUDO_PASSWORD", &bed.sudo_password)
        .env("FLEET_TEST_WRONG_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(output.status.code(), Some(3), "{doc:#}");
    let ok = host(&doc, "becomes");
    assert_eq!(ok["status"], "ok", "{ok:#}");
    assert_eq!(ok["result"][0], bed.target_user.as_str(), "{ok:#}");
    assert_eq!(
        ok["route"],
        format!(
            "ssh {}@{} → sudo user {}",
            bed.sudo_user, hosts[0].address, bed.target_user
        )
    );
    let bad = host(&doc, "badsudo");
    assert_eq!(bad["status"], "unreachable", "{bad:#}");
    let message = bad["error"]["message"].as_str().unwrap();
    assert!(message.contains("authentication failed"), "{message}");
    assert!(!stdout.contains("not-the-password") && !stdout.contains(&bed.sudo_password));
}

#[test]
fn a_chain_of_via_hops_on_the_command_line() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let host = &bed.netns_hosts()[2];
    let ssh = format!(
        "ssh:{}@{},identity={},known_hosts={},host_key=enforce",
        bed.sudo_user,
        host.address,
        bed.ssh_key.display(),
        bed.ssh_known_hosts.display()
    );
    let sudo = format!(
        "sudo:{},password_env=FLEET_TEST_SUDO_PASSWORD",
        bed.target_user
    );
    let output = pyfleet(dir.path())
        .args(["call", "--via", &ssh, "--via", &sudo, "--python"])
        .arg(&bed.python_for_users)
        .arg("getpass.getuser")
        .env("FLEET_TEST_SUDO_PASSWORD", &bed.sudo_password)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("\"{}\"", bed.target_user)
    );
    // inspect shows the last hop of the chain, started through the others.
    let output = pyfleet(dir.path())
        .args([
            "inspect", "--json", "--via", &ssh, "--via", &sudo, "--python",
        ])
        .arg(&bed.python_for_users)
        .env("FLEET_TEST_SUDO_PASSWORD", &bed.sudo_password)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["via"][0], "sudo", "{report:#}");
    let id = std::process::Command::new("id")
        .args(["-u", &bed.target_user])
        .output()
        .unwrap();
    let uid: u64 = String::from_utf8_lossy(&id.stdout).trim().parse().unwrap();
    assert_eq!(report["effective"]["uid"], uid, "{report:#}");
}

#[test]
fn push_sends_a_file_to_every_selected_host() {
    let bed = testbed();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), &bed);
    let drop = dir.path().join("drop");
    std::fs::create_dir(&drop).unwrap();
    std::fs::set_permissions(&drop, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let local = dir.path().join("payload.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&local, &content).unwrap();
    std::fs::set_permissions(&local, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    // The namespace hosts share this machine's file system: three hosts write
    // the same path at once, each through its own temporary file and rename.
    let remote = drop.join("payload.bin");
    let (code, doc, stderr) = json_run(
        dir.path(),
        &[
            "push",
            "-i",
            inv.to_str().unwrap(),
            "--hosts",
            "ns:down",
            "--json",
            local.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 3, "the down host is unreachable: {doc:#}\n{stderr}");
    let digests: Vec<&str> = bed
        .netns_names
        .iter()
        .map(|name| {
            let h = host(&doc, name);
            assert_eq!(h["status"], "ok", "{h:#}");
            assert_eq!(h["result"]["bytes"], 300_000, "{h:#}");
            assert_eq!(h["result"]["mode"], "640", "{h:#}");
            h["result"]["sha256"].as_str().unwrap()
        })
        .collect();
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
    assert_eq!(std::fs::read(&remote).unwrap(), content);
    assert_eq!(host(&doc, "down")["status"], "unreachable");
    let leftovers: Vec<_> = std::fs::read_dir(&drop)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "payload.bin")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
