//! ssh against the real test bed (scripts/testbed/setup.sh): key and password
//! logins, quoting of the remote command, multiplexing, and every way a host can
//! fail. Fails loudly when the test bed is missing.

#[path = "method_support/mod.rs"]
mod method_support;
#[path = "support/testbed.rs"]
mod testbed;

use std::time::{Duration, Instant};

use method_support::{assert_gone, assert_no_process_with, must_fail, uid_of, unique_mark, within};
use pyfleet::method::{HostKeyPolicy, Password, SshOptions};
use pyfleet::{Broker, CallError, ConnectError, LocalOptions, Value};
use testbed::{loopback_shared, testbed};

/// Key login to the loopback sshd as `user`, with the test bed's known hosts.
fn key_login(user: &str) -> SshOptions {
    let bed = testbed();
    SshOptions::new(&bed.ssh_host)
        .port(bed.ssh_port)
        .user(user)
        .identity_file(&bed.ssh_key)
        .config_file(&bed.ssh_config)
        .known_hosts(&bed.ssh_known_hosts)
        .host_key_policy(HostKeyPolicy::Enforce)
        .python(bed.python_for_users.to_string_lossy())
}

#[tokio::test]
async fn a_key_login_runs_calls_and_leaves_nothing_behind() {
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let ctx = within("ssh context", broker.ssh(key_login(&bed.ssh_key_user)))
        .await
        .expect("ssh key login");
    assert_eq!(ctx.facts().uid, uid_of(&bed.ssh_key_user));
    let sum: i64 = within("a call", ctx.call("operator", "add", (2, 3), ()))
        .await
        .unwrap();
    assert_eq!(sum, 5);
    let remote_pid = ctx.facts().pid;
    let ssh_pid = ctx.process().pid();
    within("shutdown", broker.shutdown()).await;
    assert_gone(&[remote_pid, ssh_pid], "after shutdown");
}

/// The remote command is one string for the remote shell: the loader (quotes and
/// newlines) and environment values with quotes, `$` and newlines must survive it;
/// the master's PYTHON* variables must not appear.
#[tokio::test]
async fn the_remote_command_survives_the_remote_shell() {
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let tricky = "it's \"quoted\" $HOME `id`\nsecond line \\ end";
    let ctx = within(
        "ssh context",
        broker.ssh(key_login(&bed.ssh_key_user).env("PF_TRICKY", tricky)),
    )
    .await
    .expect("ssh key login");
    let seen: String = ctx.call("os", "getenv", ("PF_TRICKY",), ()).await.unwrap();
    assert_eq!(seen, tricky);
    let python_vars: Value = ctx
        .exec("import os\nsorted(k for k in os.environ if k.startswith('PYTHON'))")
        .await
        .unwrap()
        .value
        .unwrap();
    assert_eq!(
        python_vars,
        Value::List(vec![]),
        "PYTHON* variables reached the target"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn a_password_login_types_the_password_once() {
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let options = SshOptions::new(&bed.ssh_host)
        .port(bed.ssh_port)
        .user(&bed.ssh_password_user)
        .config_file(&bed.ssh_config)
        .known_hosts(&bed.ssh_known_hosts)
        .ssh_arg("-oPubkeyAuthentication=no")
        .python(bed.python_for_users.to_string_lossy())
        .password(Password::new(&bed.ssh_password));
    let ctx = within("ssh password login", broker.ssh(options))
        .await
        .expect("ssh password login");
    assert_eq!(ctx.facts().uid, uid_of(&bed.ssh_password_user));
    let ssh_pid = ctx.process().pid();
    let remote_pid = ctx.facts().pid;
    broker.shutdown().await;
    assert_gone(&[ssh_pid, remote_pid], "after shutdown");
}

#[tokio::test]
async fn a_wrong_password_fails_at_once_without_showing_it() {
    let mark = unique_mark();
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let options = SshOptions::new(&bed.ssh_host)
        .port(bed.ssh_port)
        .user(&bed.ssh_password_user)
        .config_file(&bed.ssh_config)
        .known_hosts(&bed.ssh_known_hosts)
        .ssh_arg("-oPubkeyAuthentication=no")
        .env("PF_MARK", &mark)
        .password(Password::new("not-the-password-42"));
    let started = Instant::now();
    let error = must_fail(
        within("a refused login", broker.ssh(options)).await,
        "a wrong password must fail",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(!error.to_string().contains("not-the-password-42"));
    assert_no_process_with(&mark, "after the refusal");
}

#[tokio::test]
async fn a_changed_host_key_is_refused_with_enforce() {
    let bed = testbed();
    let _shared = loopback_shared();
    let options = key_login(&bed.ssh_key_user).known_hosts(&bed.ssh_known_hosts_wrong);
    let error = must_fail(
        within("a refused host key", Broker::new().ssh(options)).await,
        "a wrong host key must fail",
    );
    let text = error.to_string();
    assert!(matches!(error, ConnectError::HopFailed { .. }), "{text}");
    assert!(text.contains("host key"), "{text}");
}

#[tokio::test]
async fn unreachable_hosts_say_so() {
    let bed = testbed();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases = [
        (
            "port closed",
            SshOptions::new("127.0.0.1").port(closed_port),
            "connection refused",
        ),
        (
            "connection refused",
            SshOptions::new(&bed.refused_address),
            "connection refused",
        ),
        (
            "host down",
            SshOptions::new(&bed.timeout_address),
            "timed out",
        ),
        (
            "DNS failure",
            SshOptions::new("no-such-host.invalid"),
            "could not resolve",
        ),
    ];
    for (what, options, said) in cases {
        let mark = unique_mark();
        let options = options
            .config_file(&bed.ssh_config)
            .ssh_connect_timeout(Duration::from_secs(2))
            .env("PF_MARK", &mark);
        let started = Instant::now();
        let error = must_fail(
            within(what, Broker::new().ssh(options)).await,
            &format!("{what}: must fail"),
        );
        let text = error.to_string();
        assert!(
            matches!(error, ConnectError::HopFailed { .. }),
            "{what}: {text}"
        );
        assert!(text.contains("cannot be reached"), "{what}: {text}");
        assert!(text.to_lowercase().contains(said), "{what}: {text}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{what}: {:?}",
            started.elapsed()
        );
        assert_no_process_with(&mark, what);
    }
}

#[tokio::test]
async fn a_missing_remote_python_is_named() {
    let bed = testbed();
    let _shared = loopback_shared();
    let options = key_login(&bed.ssh_key_user).python("/usr/bin/python3.99");
    let error = must_fail(
        within("a missing python", Broker::new().ssh(options)).await,
        "a missing interpreter must fail",
    );
    let text = error.to_string();
    assert!(matches!(error, ConnectError::HopFailed { .. }), "{text}");
    assert!(text.contains("/usr/bin/python3.99"), "{text}");
    assert!(text.contains("not on the target"), "{text}");
}

/// A private sshd is killed while a call runs: the call fails with how the context
/// ended, the broker keeps working, and no process is left on either side.
#[tokio::test]
async fn sshd_killed_mid_call_fails_the_context_only() {
    let bed = testbed();
    let spare = bed.spare_sshd();
    let args = spare.ssh_args(&bed, &bed.ssh_key_user);
    // The spare's own known_hosts and port, as its ssh_args give them.
    let port: u16 = args[args.iter().position(|a| a == "-p").unwrap() + 1]
        .parse()
        .unwrap();
    let known_hosts = args
        .iter()
        .find_map(|a| a.strip_prefix("UserKnownHostsFile="))
        .unwrap()
        .to_string();
    let options = key_login(&bed.ssh_key_user)
        .port(port)
        .known_hosts(known_hosts);
    let broker = Broker::new();
    let ctx = within("ssh context", broker.ssh(options))
        .await
        .expect("ssh login");
    let (ssh_pid, remote_pid) = (ctx.process().pid(), ctx.facts().pid);
    let call = {
        let ctx = ctx.clone();
        tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (30,), ()).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(spare);
    let outcome = within("the pending call", call).await.unwrap();
    match outcome {
        Err(CallError::ContextEnded(end)) => {
            assert!(end.to_string().contains(ctx.name()), "{end}");
        }
        other => panic!("expected the context to end, got {other:?}"),
    }
    assert_gone(&[ssh_pid, remote_pid], "after sshd died");
    let local = within(
        "a local context afterwards",
        broker.local(LocalOptions::new().python(&bed.python_for_users)),
    )
    .await
    .expect("the broker still starts contexts");
    let _: u32 = local.call("os", "getpid", (), ()).await.unwrap();
    broker.shutdown().await;
}

#[tokio::test]
async fn multiplexed_contexts_share_one_private_connection() {
    let bed = testbed();
    let _shared = loopback_shared();
    let control = tempfile::tempdir().unwrap();
    let dir = control.path().join("mux");
    let options = key_login(&bed.ssh_key_user)
        .multiplex(Duration::from_secs(30))
        .control_dir(&dir);
    let broker = Broker::new();
    for round in 0..2 {
        let ctx = within("a multiplexed context", broker.ssh(options.clone()))
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let _: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
        ctx.shutdown().await;
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let sockets: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(sockets.len(), 1, "one master connection for both contexts");
    // Stop the master now rather than when ControlPersist runs out.
    let stop = std::process::Command::new("ssh")
        .args([
            "-o",
            &format!("ControlPath={}/%C", dir.display()),
            "-O",
            "exit",
        ])
        .args([
            "-p",
            &bed.ssh_port.to_string(),
            "-l",
            &bed.ssh_key_user,
            &bed.ssh_host,
        ])
        .output()
        .unwrap();
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    broker.shutdown().await;
}
