//! Container and namespace methods.
//!
//! docker, kubectl and lxc/incus cannot run here (no engine, no cluster, no LXD),
//! and podman needs an image built offline first, which does not fit the suite's
//! time bounds on this machine: for those, the launch plan is checked exactly, and
//! then run against a small FAKE program that checks the arguments it is given
//! and execs the command after them — a stand-in, not the real tool.
//! nsenter, unshare and chroot are real (the suite runs as root).

#[path = "method_support/mod.rs"]
mod method_support;
#[path = "support/testbed.rs"]
mod testbed;

use method_support::{Bin, assert_gone, must_fail, within};
use pyfleet::method::{
    ChrootOptions, DockerOptions, Hop, KubectlOptions, LxcOptions, Namespace, NsenterOptions,
    PodmanOptions, UnshareOptions,
};
use pyfleet::router::{PayloadTiming, TerminalMode};
use pyfleet::{Broker, ConnectError};
use testbed::testbed;

fn python() -> String {
    testbed().python_for_users.to_string_lossy().into_owned()
}

/// The plan's argv without the loader (the last word).
fn argv_before_loader(hop: &Hop) -> Vec<String> {
    let plan = hop.plan().expect("a plan");
    assert_eq!(plan.terminal, TerminalMode::None);
    assert_eq!(plan.payload, PayloadTiming::Pipelined);
    assert_eq!(plan.argv[plan.argv.len() - 2], "-c");
    plan.argv[..plan.argv.len() - 2].to_vec()
}

/// A fake `TOOL` that insists on `expected` arguments before the command, then
/// execs the command.
fn fake_tool(bin: &Bin, tool: &str, expected: &[&str]) -> String {
    let mut body = String::new();
    for word in expected {
        body.push_str(&format!(
            "[ \"$1\" = '{word}' ] || {{ echo \"fake {tool}: expected {word}, got $1\" >&2; exit 64; }}; shift\n"
        ));
    }
    body.push_str("exec \"$@\"");
    bin.script(tool, &body).to_string_lossy().into_owned()
}

async fn run_through(hop: Hop) -> u32 {
    let broker = Broker::new();
    let ctx = within("a context", broker.connect(hop))
        .await
        .expect("start");
    let pid: u32 = ctx.call("os", "getpid", (), ()).await.unwrap();
    let pids = [ctx.process().pid(), pid];
    broker.shutdown().await;
    assert_gone(&pids, "after shutdown");
    pid
}

#[tokio::test]
async fn docker_and_podman_exec_plans_run_through_a_fake() {
    let bin = Bin::new();
    let docker = DockerOptions::new("web")
        .user("1000")
        .workdir("/srv")
        .python(python());
    let expected = [
        "docker",
        "exec",
        "-i",
        "--user",
        "1000",
        "--workdir",
        "/srv",
        "web",
    ];
    let mut argv = argv_before_loader(&docker.clone().into());
    assert_eq!(argv.pop().unwrap(), python());
    assert_eq!(argv, expected);
    let fake = fake_tool(&bin, "docker", &expected[1..]);
    run_through(docker.program(fake).into()).await;

    let podman = PodmanOptions::new("box").python(python());
    let expected = ["podman", "exec", "-i", "--detach-keys=", "box"];
    let mut argv = argv_before_loader(&podman.clone().into());
    assert_eq!(argv.pop().unwrap(), python());
    assert_eq!(argv, expected);
    let fake = fake_tool(&bin, "podman", &expected[1..]);
    run_through(podman.program(fake).into()).await;
}

#[tokio::test]
async fn kubectl_and_lxc_exec_plans_run_through_a_fake() {
    let bin = Bin::new();
    let kubectl = KubectlOptions::new("api-0")
        .namespace("prod")
        .container("app")
        .kube_context("east")
        .python(python());
    let expected = [
        "kubectl",
        "--context",
        "east",
        "exec",
        "-i",
        "-n",
        "prod",
        "-c",
        "app",
        "api-0",
        "--",
    ];
    let mut argv = argv_before_loader(&kubectl.clone().into());
    assert_eq!(argv.pop().unwrap(), python());
    assert_eq!(argv, expected);
    let fake = fake_tool(&bin, "kubectl", &expected[1..]);
    run_through(kubectl.program(fake).into()).await;

    let incus = LxcOptions::incus("c1")
        .user(0)
        .cwd("/root")
        .python(python());
    let expected = [
        "incus",
        "exec",
        "--mode",
        "non-interactive",
        "--user",
        "0",
        "--cwd",
        "/root",
        "c1",
        "--",
    ];
    let mut argv = argv_before_loader(&incus.clone().into());
    assert_eq!(argv.pop().unwrap(), python());
    assert_eq!(argv, expected);
    let fake = fake_tool(&bin, "incus", &expected[1..]);
    run_through(incus.program(fake).into()).await;
}

#[tokio::test]
async fn a_missing_container_is_named() {
    let bin = Bin::new();
    let fake = bin.script(
        "docker",
        "echo 'Error response from daemon: No such container: gone' >&2; exit 1",
    );
    let options = DockerOptions::new("gone").program(fake.to_string_lossy());
    let error = must_fail(
        within("a missing container", Broker::new().docker(options)).await,
        "must fail",
    );
    assert!(matches!(error, ConnectError::HopFailed { .. }), "{error}");
    assert!(error.to_string().contains("no such container"), "{error}");
}

/// Into the network namespace of a test bed host's sshd: the interpreter sees that
/// host's address.
#[tokio::test]
async fn nsenter_joins_a_running_process() {
    let bed = testbed();
    let sshd = bed.sshd_pids[1];
    let options = NsenterOptions::new(sshd)
        .namespaces([Namespace::Net])
        .python(python());
    let broker = Broker::new();
    let ctx = within("nsenter", broker.nsenter(options))
        .await
        .expect("nsenter");
    let addresses: String = ctx
        .exec("import subprocess\nsubprocess.check_output(['ip', '-o', 'addr']).decode()")
        .await
        .unwrap()
        .value
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        addresses.contains(&bed.netns_hosts()[0].address),
        "{addresses}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn unshare_starts_in_new_namespaces() {
    let options = UnshareOptions::new([Namespace::Pid, Namespace::Net]).python(python());
    let broker = Broker::new();
    let ctx = within("unshare", broker.unshare(options))
        .await
        .expect("unshare");
    assert_eq!(
        ctx.facts().pid,
        1,
        "the interpreter is PID 1 of its namespace"
    );
    let unshare_pid = ctx.process().pid();
    let devices: Vec<(u32, String)> = ctx.call("socket", "if_nameindex", (), ()).await.unwrap();
    let names: Vec<&str> = devices.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, ["lo"], "a new network namespace has only loopback");
    broker.shutdown().await;
    assert_gone(&[unshare_pid], "after shutdown");
}

#[tokio::test]
async fn chroot_runs_inside_the_new_root() {
    let pid = run_through(ChrootOptions::new("/").python(python()).into()).await;
    assert!(pid > 1);
}
