//! Passwords never reach the logs: every hop below runs with tracing at TRACE
//! level captured in memory (as PYFLEET_LOG=trace would), and the captured text,
//! the errors and the output events must not contain the password.

#[path = "method_support/mod.rs"]
mod method_support;
#[path = "support/testbed.rs"]
mod testbed;

use std::io::Write;
use std::sync::{Arc, Mutex};

use method_support::{Bin, must_fail, within};
use pyfleet::method::{Password, SshOptions, SuOptions, SudoOptions};
use pyfleet::{Broker, ConnectError};
use testbed::testbed;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn no_password_appears_in_trace_logs_or_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    tracing::trace!("capture works");
    let bed = testbed();
    let python = bed.python_for_users.to_string_lossy().into_owned();
    let bin = Bin::new();
    let mut secrets = vec![bed.sudo_password.clone(), bed.ssh_password.clone()];
    let mut errors = Vec::new();

    // A successful sudo with a password.
    let broker = Broker::new();
    let sudo = SudoOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.sudo_user, "/usr/bin/sudo"))
        .python(&python)
        .password(Password::new(&bed.sudo_password));
    let ctx = within("sudo", broker.sudo(sudo)).await.expect("sudo");
    let _: u32 = ctx.call("os", "getuid", (), ()).await.unwrap();
    broker.shutdown().await;

    // A successful ssh password login.
    let broker = Broker::new();
    let ssh = SshOptions::new(&bed.ssh_host)
        .port(bed.ssh_port)
        .user(&bed.ssh_password_user)
        .config_file(&bed.ssh_config)
        .known_hosts(&bed.ssh_known_hosts)
        .ssh_arg("-oPubkeyAuthentication=no")
        .python(&python)
        .password(Password::new(&bed.ssh_password));
    let ctx = within("ssh", broker.ssh(ssh)).await.expect("ssh");
    let _: u32 = ctx.call("os", "getuid", (), ()).await.unwrap();
    broker.shutdown().await;

    // Wrong passwords.
    let wrong = "Wrong-Pass-in-logs-1";
    secrets.push(wrong.into());
    let su = SuOptions::new(&bed.target_user)
        .program(bin.as_user(&bed.su_user, "/usr/bin/su"))
        .python(&python)
        .password(Password::new(wrong));
    errors.push(must_fail(
        within("su", Broker::new().su(su)).await,
        "refused",
    ));

    // A stand-in for sudo (real sudo never does this) that echoes what was typed
    // on the terminal, then asks again: the echo must not surface anywhere.
    let echoing = "Echoed-Secret-2";
    secrets.push(echoing.into());
    let fake = bin.script(
        "sudo",
        "printf 'Password: ' >/dev/tty\nread a </dev/tty\nprintf 'got %s\\n' \"$a\" >/dev/tty\n\
         printf 'Sorry, %s is wrong\\nPassword: ' \"$a\" >/dev/tty\nsleep 30",
    );
    let options = SudoOptions::new("nobody")
        .program(fake.to_string_lossy())
        .password(Password::new(echoing));
    let error = must_fail(
        within("fake sudo", Broker::new().sudo(options)).await,
        "refused",
    );
    assert!(
        matches!(error, ConnectError::AuthenticationFailed { .. }),
        "{error}"
    );
    errors.push(error);

    let logs = captured.text();
    assert!(logs.contains("capture works"), "the capture is not working");
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a password is in the logs");
        assert!(
            !logs.to_lowercase().contains(&secret.to_lowercase()),
            "a password is in the logs"
        );
        for error in &errors {
            let text = format!("{error} {error:?}");
            assert!(
                !text.to_lowercase().contains(&secret.to_lowercase()),
                "{text}"
            );
        }
    }
}
