//! The test bed works with the real programs (ssh, sshd, sudo, su, doas), checked
//! without any pyfleet code: when a method test fails, these say whether the test
//! bed or pyfleet is to blame. Needs scripts/testbed/setup.sh (as root).

#[path = "support/testbed.rs"]
mod testbed;

use std::time::{Duration, Instant};

use testbed::{
    loopback_exclusive, loopback_shared, run_bounded, run_on_pty, ssh_banner_ok, ssh_bounded,
    testbed,
};

const LIMIT: Duration = Duration::from_secs(30);

/// The remote command every login runs: the users' interpreter, isolated.
fn python_42() -> String {
    format!(
        "{} -I -S -c 'print(42)'",
        testbed().python_for_users.display()
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_prints_42(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success() && text(&output.stdout) == "42\n",
        "{what}: {:?}, stdout {:?}, stderr {:?}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn key_login_to_loopback_runs_python() {
    let _shared = loopback_shared();
    let tb = testbed();
    for user in [tb.ssh_key_user.as_str(), "root"] {
        let mut args = tb.ssh_loopback_args(user);
        args.push(python_42());
        assert_prints_42(&ssh_bounded(&args, LIMIT), &format!("ssh {user}@loopback"));
    }
}

#[test]
fn key_login_through_the_ssh_config_alias() {
    let _shared = loopback_shared();
    let tb = testbed();
    let config = tb.ssh_config.to_string_lossy().into_owned();
    let destination = format!("{}@{}", tb.ssh_key_user, tb.ssh_alias);
    let args = [
        "-F",
        config.as_str(),
        "-o",
        "BatchMode=yes",
        destination.as_str(),
        &python_42(),
    ];
    assert_prints_42(&ssh_bounded(&args, LIMIT), "ssh -F config pfloop");
}

#[test]
fn key_login_to_each_namespace_host_runs_python() {
    let tb = testbed();
    let hosts = tb.netns_hosts();
    assert_eq!(hosts.len(), 3);
    for host in hosts {
        let mut args = tb.ssh_base_args();
        args.extend([
            "-p".to_owned(),
            host.port.to_string(),
            format!("{}@{}", tb.ssh_key_user, host.address),
            // Which host answered: sshd puts the server's address in SSH_CONNECTION.
            format!("echo $SSH_CONNECTION; {}", python_42()),
        ]);
        let output = ssh_bounded(&args, LIMIT);
        let stdout = text(&output.stdout);
        assert!(
            output.status.success()
                && stdout.ends_with("\n42\n")
                && stdout.contains(&format!(" {} {}\n", host.address, host.port)),
            "ssh to {host:?}: {:?}, stdout {stdout:?}, stderr {:?}",
            output.status,
            text(&output.stderr)
        );
    }
}

#[test]
fn password_login_works_on_a_terminal() {
    let _shared = loopback_shared();
    let tb = testbed();
    let mut argv = tb.ssh_password_args();
    argv.extend([
        "-p".to_owned(),
        tb.ssh_port.to_string(),
        format!("{}@{}", tb.ssh_password_user, tb.ssh_host),
        python_42(),
    ]);
    let mut full = vec!["ssh"];
    full.extend(argv.iter().map(String::as_str));
    let prompt = format!("{}@{}'s password:", tb.ssh_password_user, tb.ssh_host);

    let run = run_on_pty(&full, &[(&prompt, &tb.ssh_password)], LIMIT);
    assert!(
        run.success() && run.answered == 1 && run.transcript.ends_with("42\r\n"),
        "password login: {run:?}"
    );

    let wrong = run_on_pty(&full, &[(&prompt, "not-the-password")], LIMIT);
    assert!(
        !wrong.success() && wrong.transcript.contains("Permission denied"),
        "a wrong password is refused: {wrong:?}"
    );
}

#[test]
fn the_password_user_has_no_key() {
    let _shared = loopback_shared();
    let tb = testbed();
    let mut args = tb.ssh_loopback_args(&tb.ssh_password_user);
    args.push("true".to_owned());
    let output = ssh_bounded(&args, LIMIT);
    assert!(
        !output.status.success() && text(&output.stderr).contains("Permission denied"),
        "{:?} {:?}",
        output.status,
        text(&output.stderr)
    );
}

#[test]
fn the_wrong_known_hosts_fails_as_a_changed_host_key() {
    let _shared = loopback_shared();
    let tb = testbed();
    let mut args = vec![
        "-o".to_owned(),
        format!("UserKnownHostsFile={}", tb.ssh_known_hosts_wrong.display()),
        "-o".to_owned(),
        "StrictHostKeyChecking=yes".to_owned(),
    ];
    args.extend(tb.ssh_loopback_args(&tb.ssh_key_user));
    args.push("true".to_owned());
    let output = ssh_bounded(&args, LIMIT);
    assert_eq!(output.status.code(), Some(255), "{output:?}");
    assert!(
        text(&output.stderr).contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{:?}",
        text(&output.stderr)
    );
}

#[test]
fn root_becomes_the_target_with_sudo_without_a_password() {
    let tb = testbed();
    let python = tb.python_for_users.to_string_lossy().into_owned();
    let output = run_bounded(
        &[
            "sudo",
            "-n",
            "-u",
            &tb.target_user,
            &python,
            "-I",
            "-S",
            "-c",
            "import getpass; print(getpass.getuser())",
        ],
        LIMIT,
    );
    assert!(
        output.status.success() && text(&output.stdout) == format!("{}\n", tb.target_user),
        "{output:?}"
    );
}

#[test]
fn sudo_user_is_asked_for_its_password_and_becomes_root_or_the_target() {
    let tb = testbed();
    let python = tb.python_for_users.to_string_lossy().into_owned();
    let prompt = format!("[sudo] password for {}: ", tb.sudo_user);
    for (target, expected) in [
        ("root", "0".to_owned()),
        (tb.target_user.as_str(), {
            let output = run_bounded(&["id", "-u", &tb.target_user], LIMIT);
            text(&output.stdout).trim().to_owned()
        }),
    ] {
        let run = run_on_pty(
            &[
                "runuser",
                "-u",
                &tb.sudo_user,
                "--",
                "sudo",
                "-u",
                target,
                &python,
                "-I",
                "-S",
                "-c",
                "import os; print('uid', os.getuid())",
            ],
            &[(&prompt, &tb.sudo_password)],
            LIMIT,
        );
        assert!(
            run.success() && run.transcript.contains(&format!("uid {expected}\r\n")),
            "sudo -u {target} as {}: {run:?}",
            tb.sudo_user
        );
    }
}

#[test]
fn nosudo_user_is_refused() {
    let tb = testbed();
    // Without a terminal: refused at once, no prompt.
    let output = tb.run_as(&tb.nosudo_user, &["sudo", "-n", "true"]);
    assert!(!output.status.success(), "{output:?}");

    // With one: asked, and refused even with the right password.
    let prompt = format!("[sudo] password for {}: ", tb.nosudo_user);
    let run = run_on_pty(
        &["runuser", "-u", &tb.nosudo_user, "--", "sudo", "true"],
        &[(&prompt, &tb.nosudo_password)],
        LIMIT,
    );
    assert!(
        !run.success() && run.transcript.contains("is not in the sudoers file"),
        "{run:?}"
    );
}

#[test]
fn doas_user_is_asked_for_its_password_and_becomes_root() {
    let tb = testbed();
    let python = tb.python_for_users.to_string_lossy().into_owned();
    let run = run_on_pty(
        &[
            "runuser",
            "-u",
            &tb.doas_user,
            "--",
            "doas",
            &python,
            "-I",
            "-S",
            "-c",
            "import os; print('uid', os.getuid())",
        ],
        &[("password:", &tb.doas_password)],
        LIMIT,
    );
    assert!(
        run.success()
            && run.transcript.contains(&format!("doas ({}@", tb.doas_user))
            && run.transcript.contains("uid 0\r\n"),
        "{run:?}"
    );
}

#[test]
fn su_asks_for_the_password_of_the_su_user() {
    let tb = testbed();
    let run = run_on_pty(
        &[
            "runuser",
            "-u",
            &tb.nosudo_user,
            "--",
            "su",
            &tb.su_user,
            "-c",
            "id -un",
        ],
        &[("Password: ", &tb.su_password)],
        LIMIT,
    );
    assert!(
        run.success() && run.transcript.contains(&format!("{}\r\n", tb.su_user)),
        "{run:?}"
    );
}

/// Each fails the way its name says, within a bound: (address, ssh's
/// ConnectTimeout, expected error, seconds at most).
#[test]
fn unreachable_addresses_fail_the_way_their_names_say() {
    let tb = testbed();
    let cases = [
        (&tb.refused_address, 10, "Connection refused", 2),
        (&tb.timeout_address, 2, "Connection timed out", 5),
        // ARP gives up after ~3 s: a ConnectTimeout below that hides this error.
        (&tb.unreachable_address, 10, "No route to host", 9),
    ];
    for (address, connect_timeout, error, seconds) in cases {
        let mut args = vec!["-o".to_owned(), format!("ConnectTimeout={connect_timeout}")];
        args.extend(tb.ssh_base_args());
        args.extend([
            "-p".to_owned(),
            tb.netns_ssh_port.to_string(),
            format!("{}@{address}", tb.ssh_key_user),
            "true".to_owned(),
        ]);
        let start = Instant::now();
        let output = ssh_bounded(&args, LIMIT);
        let took = start.elapsed();
        assert!(
            output.status.code() == Some(255) && text(&output.stderr).contains(error),
            "{address}: {output:?}"
        );
        assert!(took < Duration::from_secs(seconds), "{address}: {took:?}");
    }
}

#[test]
fn a_killed_spare_sshd_drops_its_connection_and_can_be_replaced() {
    let tb = testbed();
    let spare = tb.spare_sshd();
    let mut args = spare.ssh_args(&tb, &tb.ssh_key_user);
    args.push(python_42());
    assert_prints_42(&ssh_bounded(&args, LIMIT), "ssh to the spare sshd");

    // A long call in flight, then sshd dies under it. The remote end waits for
    // EOF on its stdin (our pipe, held open), which the dying sshd delivers: no
    // orphan outlives the test.
    let mut args = spare.ssh_args(&tb, &tb.ssh_key_user);
    args.push("echo started; exec head -c1 >/dev/null".to_owned());
    let mut client = std::process::Command::new("ssh")
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run ssh");
    let mut stdout = std::io::BufReader::new(client.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).expect("read from ssh");
    assert_eq!(line, "started\n");
    let killed = spare.sshd.kill();
    assert!(killed.len() >= 2, "listener and session: {killed:?}");
    assert!(!spare.sshd.running());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = client.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = client.kill();
            panic!("ssh still runs 10 s after its sshd was killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(255));

    spare.sshd.start();
    assert!(spare.sshd.running());
    let mut args = spare.ssh_args(&tb, &tb.ssh_key_user);
    args.push(python_42());
    assert_prints_42(
        &ssh_bounded(&args, LIMIT),
        "ssh to the restarted spare sshd",
    );
}

#[test]
fn loopback_sshd_restarts_after_a_kill() {
    let _exclusive = loopback_exclusive();
    let tb = testbed();
    assert!(tb.sshd_running());
    let killed = tb.kill_loopback_sshd();
    assert!(!killed.is_empty());
    assert!(!tb.sshd_running());
    assert!(!ssh_banner_ok(&tb.ssh_host, tb.ssh_port));
    tb.start_loopback_sshd();
    assert!(tb.sshd_running());
    tb.start_loopback_sshd(); // running: nothing to do
    let mut args = tb.ssh_loopback_args(&tb.ssh_key_user);
    args.push(python_42());
    assert_prints_42(&ssh_bounded(&args, LIMIT), "ssh after the restart");
}
