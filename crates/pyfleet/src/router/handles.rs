//! Well-known handles, shared with python/pyfleet_core/wire.py.

/// Parent → child: call a function. Body: (module, function, args, kwargs).
pub const CALL: u32 = 1;
/// Child → parent: the child's effective configuration, once, after boot.
pub const HELLO: u32 = 2;
/// Child → parent: (stream number, bytes) written by user code to sys.stdout/stderr.
pub const OUTPUT: u32 = 3;
/// Parent → child: the boot configuration, the first frame after the payload.
pub const BOOT_CONFIG: u32 = 4;
/// Child → parent: send the on-demand core module named in the body.
pub const LOAD_CORE: u32 = 5;
/// Child → parent: send the module named in the body (and its package's others).
pub const GET_MODULE: u32 = 6;
/// Child → parent: send the data file at the path in the body (pkgutil.get_data).
pub const GET_DATA: u32 = 7;
/// Child → parent: a `logging` record: (level number, logger name, message bytes).
pub const LOG: u32 = 8;
/// Either way: credit for a channel, (channel handle, frames consumed).
pub const CREDIT: u32 = 9;

/// Master → hop: control of the contexts a hop starts, (operation, …): "connect",
/// "password", "route", "unroute", "start", "stop". Hop → master: notices about
/// them: "ended", "dropped", "stderr" (python/pyfleet_core/parent.py).
pub const HOP: u32 = 10;

/// Child → parent: a context this child forked has exited: (pid, wait status).
/// Only python/pyfleet_core/forking.py sends it.
pub const FORK_EXIT: u32 = 11;

/// Reply handles are allocated from here up; lower numbers are reserved.
pub const FIRST_DYNAMIC: u32 = 1024;
