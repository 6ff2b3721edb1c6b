//! A hard bound on the whole run, whatever the code under test does.

use std::time::Duration;

/// After `limit`, exit the process. Contexts notice their input closing and exit on
/// their own, so nothing is left behind.
pub fn arm(limit: Duration) {
    std::thread::Builder::new()
        .name("deadline".into())
        .spawn(move || {
            std::thread::sleep(limit);
            eprintln!("pyfleet-bench: deadline of {limit:?} passed, giving up");
            std::process::exit(3);
        })
        .expect("starting the deadline thread");
}
