//! The ready-made pre-exec hooks change the child as promised.

#[path = "support/spawn_util.rs"]
mod spawn_util;

use pyfleet::spawn::hooks::{self, SchedPolicy};
use pyfleet::spawn::{ChildSetupStep, SpawnError, SpawnOptions, Spawned, spawn};
use spawn_util::{output_of, stat_fields, status_field, within};

/// CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data filled by sched_getaffinity.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    let result = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
    assert_eq!(result, 0);
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

async fn sleeper(options: SpawnOptions) -> Spawned {
    spawn(options.arg("30")).await.expect("spawn sleep")
}

async fn stop(child: Spawned) {
    child.process.kill().unwrap();
    within("sleep exit", child.process.wait()).await;
}

#[tokio::test]
async fn cpu_affinity_pins_the_child() {
    let cpus = allowed_cpus();
    let last = *cpus.last().unwrap();
    let spawned = spawn(
        SpawnOptions::new("/bin/cat")
            .arg("/proc/self/status")
            .pre_exec(hooks::cpu_affinity(&[last])),
    )
    .await
    .expect("spawn cat");
    let status = output_of(spawned).await.0;
    assert_eq!(status_field(&status, "Cpus_allowed_list"), last.to_string());

    let error = spawn(SpawnOptions::new("/bin/true").pre_exec(hooks::cpu_affinity(&[1 << 20])))
        .await
        .expect_err("a CPU beyond cpu_set_t");
    assert!(
        matches!(&error, SpawnError::ChildSetup { step: ChildSetupStep::Hook(0), source }
            if source.raw_os_error() == Some(libc::EINVAL)),
        "{error:?}"
    );
}

#[tokio::test]
async fn scheduler_hook_sets_batch_and_idle() {
    for (policy, number) in [
        (SchedPolicy::Batch, libc::SCHED_BATCH),
        (SchedPolicy::Idle, libc::SCHED_IDLE),
    ] {
        let child =
            sleeper(SpawnOptions::new("/bin/sleep").pre_exec(hooks::scheduler(policy, 0))).await;
        let fields = stat_fields(child.pid).expect("stat");
        assert_eq!(fields[41], number.to_string(), "{policy:?}");
        stop(child).await;
    }

    let error =
        spawn(SpawnOptions::new("/bin/true").pre_exec(hooks::scheduler(SchedPolicy::Batch, 5)))
            .await
            .expect_err("SCHED_BATCH takes priority 0 only");
    assert!(matches!(error, SpawnError::ChildSetup { .. }), "{error:?}");
}

#[tokio::test]
async fn nice_hook_sets_the_nice_value() {
    let child = sleeper(SpawnOptions::new("/bin/sleep").pre_exec(hooks::nice(7))).await;
    assert_eq!(stat_fields(child.pid).expect("stat")[19], "7");
    stop(child).await;
}
