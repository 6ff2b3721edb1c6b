//! Linux namespace kinds, shared by nsenter and unshare.

/// A kind of Linux namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// Mount points.
    Mount,
    /// Host and domain name.
    Uts,
    /// System V IPC and POSIX message queues.
    Ipc,
    /// Network devices, addresses, ports.
    Net,
    /// Process ids.
    Pid,
    /// User and group ids.
    User,
    /// The cgroup root.
    Cgroup,
    /// Boot and monotonic clocks.
    Time,
}

impl Namespace {
    /// Every kind, in the order util-linux lists them.
    pub const ALL: [Namespace; 8] = [
        Namespace::Mount,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Net,
        Namespace::Pid,
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Time,
    ];

    /// The long option of nsenter and unshare (`--mount`, `--net`, …).
    pub fn flag(self) -> &'static str {
        match self {
            Namespace::Mount => "--mount",
            Namespace::Uts => "--uts",
            Namespace::Ipc => "--ipc",
            Namespace::Net => "--net",
            Namespace::Pid => "--pid",
            Namespace::User => "--user",
            Namespace::Cgroup => "--cgroup",
            Namespace::Time => "--time",
        }
    }

    /// From a name: mount (or mnt), uts, ipc, net, pid, user, cgroup, time.
    pub fn from_name(name: &str) -> Option<Namespace> {
        Some(match name {
            "mount" | "mnt" => Namespace::Mount,
            "uts" => Namespace::Uts,
            "ipc" => Namespace::Ipc,
            "net" | "network" => Namespace::Net,
            "pid" => Namespace::Pid,
            "user" => Namespace::User,
            "cgroup" => Namespace::Cgroup,
            "time" => Namespace::Time,
            _ => return None,
        })
    }
}
