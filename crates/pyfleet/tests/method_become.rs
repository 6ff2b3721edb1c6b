//! sudo, su and doas against the real test bed: another user's interpreter, with
//! and without a password, and every way it can be refused. The master runs as
//! root; to be asked for a password the method's program is started as an
//! ordinary test user (`setpriv`, through a small wrapper given as `program`).
//! Fails loudly when the test bed is missing.

#[path = "method_support/mod.rs"]
mod method_support;
#[path = "support/testbed.rs"]
mod testbed;

use std::time::{Duration, Instant};

use method_support::{
    Bin, assert_gone, assert_no_process_with, must_fail, uid_of, unique_mark, within,
};
use pyfleet::method::{DoasOptions, Password, SuOptions, SudoOptions};
use pyfleet::{Broker, ConnectError, Context};
use testbed::testbed;

fn python() -> String {
    testbed().python_for_users.to_string_lossy().into_owned()
}

/// Checks the context runs as `user`, then shuts it down and checks that the
/// method's program and the interpreter are gone.
async fn check_runs_as(broker: &Broker, ctx: Context, user: &str) {
    assert_eq!(ctx.facts().uid, uid_of(user));
    let uid: u32 = within("a call", ctx.call("os", "getuid", (), ()))
        .await
        .unwrap();
    assert_eq!(uid, uid_of(user));
    let pids = [ctx.process().pid(), ctx.facts().pid];
    within("shutdown", broker.shutdown()).await;
    assert_gone(&pids, "after shutdown");
}

fn assert_refused_fast(error: &ConnectError, started: Instant, password: &str, mark: &str) {
    assert_no_process_with(mark, "after the refusal");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}: {error}",
        started.elapsed()
    );
    assert!(!error.to_string().contains(password), "{error}");
}

#[tokio::test]
async fn sudo_from_root_needs_no_password() {
    let bed = testbed();
    let broker = Broker::new();
    let ctx = within(
        "sudo",
        broker.sudo(SudoOptions::new(&bed.target_user).python(python())),
    )
    .await
    .expect("sudo from root");
    check_runs_as(&broker, ctx, &bed.target_user).await;
}

#[tokio::test]
async fn sudo_with_a_password_on_a_terminal() {
    let bed = testbed();
    let bin = Bin::new();
    let options = SudoOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.sudo_user, "/usr/bin/sudo"))
        .python(python())
        .password(Password::new(&bed.sudo_password));
    let broker = Broker::new();
    let ctx = within("sudo with a password", broker.sudo(options))
        .await
        .expect("sudo with the right password");
    check_runs_as(&broker, ctx, &bed.target_user).await;
}

#[tokio::test]
async fn sudo_wrong_password_is_an_authentication_failure() {
    let mark = unique_mark();
    let bed = testbed();
    let bin = Bin::new();
    let options = SudoOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.sudo_user, "/usr/bin/sudo"))
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new("wrong-sudo-password-7"));
    let started = Instant::now();
    let error = must_fail(
        within("a refused sudo", Broker::new().sudo(options)).await,
        "a wrong password must fail",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    assert_refused_fast(&error, started, "wrong-sudo-password-7", &mark);
}

#[tokio::test]
async fn sudo_without_rights_is_not_permitted() {
    let mark = unique_mark();
    let bed = testbed();
    let bin = Bin::new();
    let options = SudoOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.nosudo_user, "/usr/bin/sudo"))
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new(&bed.nosudo_password));
    let started = Instant::now();
    let error = must_fail(
        within("a refused sudo", Broker::new().sudo(options)).await,
        "a user without rules must be refused",
    );
    let text = error.to_string();
    assert!(matches!(error, ConnectError::HopFailed { .. }), "{text}");
    assert!(text.contains("not permitted"), "{text}");
    assert_refused_fast(&error, started, &bed.nosudo_password, &mark);
}

#[tokio::test]
async fn sudo_without_a_password_when_one_is_needed_says_so() {
    let bed = testbed();
    let bin = Bin::new();
    let options = SudoOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.sudo_user, "/usr/bin/sudo"))
        .python(python());
    let error = must_fail(
        within("sudo -n", Broker::new().sudo(options)).await,
        "sudo -n must fail without a password",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("password is required"),
        "{error}"
    );
}

/// A stand-in for sudo that prints a prompt real sudo never prints and waits: the
/// context must fail with the prompt quoted, soon, and never show the password.
#[tokio::test]
async fn an_unknown_prompt_is_quoted_after_a_short_wait() {
    let mark = unique_mark();
    let bin = Bin::new();
    let fake_sudo = bin.script(
        "sudo",
        "printf 'Enter the magic word> ' >/dev/tty\nread answer </dev/tty\nsleep 30",
    );
    let options = SudoOptions::new("nobody")
        .program(fake_sudo.to_string_lossy())
        .env("PF_MARK", &mark)
        .password(Password::new("magic-secret-9"))
        .unknown_prompt_timeout(Duration::from_millis(800));
    let started = Instant::now();
    let error = must_fail(
        within("an unknown prompt", Broker::new().sudo(options)).await,
        "an unknown prompt must fail",
    );
    let text = error.to_string();
    assert!(
        matches!(error, ConnectError::UnknownPrompt { .. }),
        "{text}"
    );
    assert!(text.contains("enter the magic word>"), "{text}");
    assert_refused_fast(&error, started, "magic-secret-9", &mark);
}

#[tokio::test]
async fn su_from_root_and_with_a_password() {
    let bed = testbed();
    let broker = Broker::new();
    let ctx = within(
        "su from root",
        broker.su(SuOptions::new(&bed.target_user).python(python())),
    )
    .await
    .expect("su from root");
    check_runs_as(&broker, ctx, &bed.target_user).await;

    let bin = Bin::new();
    let broker = Broker::new();
    let options = SuOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.su_user, "/usr/bin/su"))
        .python(python())
        .password(Password::new(&bed.target_password));
    let ctx = within("su with a password", broker.su(options))
        .await
        .expect("su with the target's password");
    check_runs_as(&broker, ctx, &bed.target_user).await;
}

#[tokio::test]
async fn su_wrong_password_is_an_authentication_failure() {
    let mark = unique_mark();
    let bed = testbed();
    let bin = Bin::new();
    let options = SuOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.su_user, "/usr/bin/su"))
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new("wrong-su-password-3"));
    let started = Instant::now();
    let error = must_fail(
        within("a refused su", Broker::new().su(options)).await,
        "a wrong password must fail",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    // su waits about 2 s after a failure before it says so (pam_faildelay).
    assert_refused_fast(&error, started, "wrong-su-password-3", &mark);
}

#[tokio::test]
async fn su_without_a_password_when_one_is_needed_says_so() {
    let bed = testbed();
    let bin = Bin::new();
    let options = SuOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.su_user, "/usr/bin/su"))
        .python(python());
    let error = must_fail(
        within("su without a password", Broker::new().su(options)).await,
        "su must ask",
    );
    assert!(
        matches!(error, ConnectError::PasswordNeeded { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn doas_with_a_password_and_a_wrong_one() {
    let mark = unique_mark();
    let bed = testbed();
    let bin = Bin::new();
    let doas = bin.as_user(&bed.doas_user, "/usr/bin/doas");
    let broker = Broker::new();
    let options = DoasOptions::root()
        .program(&doas)
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new(&bed.doas_password));
    let ctx = within("doas with a password", broker.doas(options))
        .await
        .expect("doas with the right password");
    check_runs_as(&broker, ctx, "root").await;

    let options = DoasOptions::root()
        .program(&doas)
        .python(python())
        .env("PF_MARK", &mark)
        .password(Password::new("wrong-doas-password-5"));
    let started = Instant::now();
    let error = must_fail(
        within("a refused doas", Broker::new().doas(options)).await,
        "a wrong password must fail",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    assert_refused_fast(&error, started, "wrong-doas-password-5", &mark);
}
