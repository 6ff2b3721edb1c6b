//! Hops against the real test bed: ssh to the loopback sshd, and from the remote
//! side sudo or su with a real password prompt answered by the hop itself. Fails
//! loudly when the test bed is missing.

#[path = "method_support/mod.rs"]
mod method_support;
#[path = "support/testbed.rs"]
mod testbed;

use std::time::{Duration, Instant};

use method_support::{assert_gone, assert_no_process_with, must_fail, uid_of, unique_mark, within};
use pyfleet::method::{HostKeyPolicy, Password, SshOptions, SuOptions, SudoOptions};
use pyfleet::{Broker, CallError, ConnectError, Context, EndReason, Value};
use testbed::{loopback_shared, testbed};

fn python() -> String {
    testbed().python_for_users.to_string_lossy().into_owned()
}

/// A key login to the loopback sshd as `user`: the hop.
async fn ssh_hop(broker: &Broker, user: &str) -> Context {
    let bed = testbed();
    let options = SshOptions::new(&bed.ssh_host)
        .port(bed.ssh_port)
        .user(user)
        .identity_file(&bed.ssh_key)
        .config_file(&bed.ssh_config)
        .known_hosts(&bed.ssh_known_hosts)
        .host_key_policy(HostKeyPolicy::Enforce)
        .python(python());
    within("an ssh hop", broker.ssh(options))
        .await
        .expect("ssh key login")
}

#[tokio::test]
async fn ssh_then_sudo_with_a_password_typed_on_the_far_side() {
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let hop = ssh_hop(&broker, &bed.sudo_user).await;
    assert_eq!(hop.facts().uid, uid_of(&bed.sudo_user));
    let mark = unique_mark();
    let options = SudoOptions::new(&bed.target_user)
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new(&bed.sudo_password));
    let started = Instant::now();
    let ctx = within("sudo through the ssh hop", hop.sudo(options))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("ssh hop then sudo with a password: {:?}", started.elapsed());
    assert_eq!(ctx.via().map(|c| c.id()), Some(hop.id()));
    let uid: u32 = within("a call", ctx.call("os", "getuid", (), ()))
        .await
        .unwrap();
    assert_eq!(uid, uid_of(&bed.target_user));
    let seen: Option<String> = ctx.call("os", "getenv", ("PF_MARK",), ()).await.unwrap();
    assert_eq!(seen.as_deref(), Some(mark.as_str()));

    // The ssh connection dies: the sudo'd context fails naming the hop, and
    // nothing it started stays behind.
    let sleeping = {
        let ctx = ctx.clone();
        tokio::spawn(async move { ctx.call::<Value>("time", "sleep", (60,), ()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let remote = [hop.pid(), hop.facts().pid, ctx.pid()];
    hop.process().kill().unwrap();
    let error = within("the call behind the dead hop", sleeping)
        .await
        .unwrap()
        .unwrap_err();
    let CallError::ContextEnded(end) = &error else {
        panic!("{error}")
    };
    assert!(
        matches!(&end.reason, EndReason::HopEnded { hop: name, .. } if name == hop.name()),
        "{end:?}"
    );
    assert!(error.to_string().contains(hop.name()), "{error}");
    assert_gone(&remote, "the hop and the context behind it");
    assert_no_process_with(&mark, "after the hop died");
    broker.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_behind_a_hop_is_refused_fast_and_leaves_nothing() {
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let hop = ssh_hop(&broker, &bed.sudo_user).await;
    let mark = unique_mark();
    let secret = "wrong-sudo-password-7";
    let options = SudoOptions::new(&bed.target_user)
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new(secret));
    let started = Instant::now();
    let error = must_fail(
        within("a refused sudo through the hop", hop.sudo(options)).await,
        "a wrong password must fail",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains(secret), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "{error}");
    assert_no_process_with(&mark, "after the refusal");

    // Without a password sudo runs with -n and says one is required.
    let options = SudoOptions::new(&bed.target_user)
        .python(python())
        .env("PF_MARK", &mark);
    let error = must_fail(
        within("sudo without a password", hop.sudo(options)).await,
        "sudo needs a password here",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. })
            && error.to_string().contains("password is required"),
        "{error}"
    );
    assert_no_process_with(&mark, "after the prompt");
    // The hop itself is unharmed.
    let pid: u32 = hop.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, hop.facts().pid);
    broker.shutdown().await;
}

#[tokio::test]
async fn su_behind_an_ssh_hop_reads_its_password_on_a_raw_terminal() {
    let bed = testbed();
    let _shared = loopback_shared();
    let broker = Broker::new();
    let hop = ssh_hop(&broker, &bed.su_user).await;
    let options = SuOptions::new(&bed.target_user)
        .python(python())
        .password(Password::new(&bed.target_password));
    let ctx = within("su through the ssh hop", hop.su(options))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let uid: u32 = ctx.call("os", "getuid", (), ()).await.unwrap();
    assert_eq!(uid, uid_of(&bed.target_user));
    let big = "x".repeat(300_000);
    let back: String = ctx
        .call("builtins", "str.upper", (&big,), ())
        .await
        .unwrap();
    assert_eq!(
        back.len(),
        big.len(),
        "frames cross the raw terminal unchanged"
    );
    let pids = [hop.pid(), hop.facts().pid, ctx.pid()];
    within("shutting the su context down", ctx.shutdown()).await;
    let pid: u32 = hop.call("os", "getpid", (), ()).await.unwrap();
    assert_eq!(pid, hop.facts().pid, "the hop outlives its child");
    broker.shutdown().await;
    assert_gone(&pids, "after shutdown");
}
