//! The connection settings an inventory can give a host, by pyfleet's names, and
//! the Ansible variables that mean the same.

/// Every setting the TOML format accepts on `[defaults]`, a group or a host.
/// Anything else goes under `vars`; an unknown key is refused so that a typo
/// never silently changes how a host is reached.
pub const SETTINGS: &[(&str, &str)] = &[
    (
        "method",
        "how to reach the host: ssh (default), local, podman, docker, kubectl, lxc, incus, nsenter, chroot",
    ),
    (
        "address",
        "host name or IP address to connect to (default: the inventory name); the container for podman/docker",
    ),
    ("user", "ssh user (or the container user)"),
    ("port", "ssh port"),
    ("identity", "ssh private key file"),
    ("ssh_config", "an ssh_config file for ssh -F"),
    ("known_hosts", "a known_hosts file"),
    ("host_key", "host-key policy: enforce, accept-new or ignore"),
    ("ssh_connect_timeout", "seconds for ssh's TCP connect"),
    ("keepalive", "seconds between ssh keepalives"),
    ("compression", "ssh compression: yes or no"),
    (
        "mux",
        "ControlMaster multiplexing: yes, no, or ControlPersist seconds (reuse across runs)",
    ),
    ("control_dir", "the directory for ControlMaster sockets"),
    (
        "ssh_args",
        "more arguments for ssh (a list, or one string split like a shell)",
    ),
    ("ssh_extra_args", "arguments appended after ssh_args"),
    (
        "password_env",
        "environment variable holding the ssh password",
    ),
    (
        "ask_password",
        "ask for the ssh password on the terminal (once per distinct prompt)",
    ),
    (
        "become",
        "run as another user after connecting: sudo, su or doas (or yes for sudo)",
    ),
    ("become_method", "sudo, su or doas"),
    ("become_user", "the user to become (default root)"),
    (
        "become_password_env",
        "environment variable holding the become password",
    ),
    (
        "become_ask_password",
        "ask for the become password on the terminal",
    ),
    (
        "via",
        "the whole chain as hops, e.g. [\"ssh:admin@bastion\", \"sudo:app\"] (same syntax as --via)",
    ),
    ("python", "the interpreter on the target (path or name)"),
    (
        "python_target",
        "its version, when a start-up setting depends on it: 3.11, pypy3.10",
    ),
    (
        "python_version",
        "local hosts only: a version constraint discovery resolves, e.g. \">=3.8\"",
    ),
    (
        "startup",
        "start-up preset: default or system (isolated, no user site, safe path, no bytecode writes)",
    ),
    (
        "connect_timeout",
        "seconds from start to a ready interpreter",
    ),
    (
        "unknown_prompt_timeout",
        "seconds of silence after which an unanswered prompt is an error",
    ),
    ("prompt", "another text that ends a password prompt"),
];

/// Settings only Ansible inventories may carry: passwords written in the file.
pub const ANSIBLE_ONLY: &[&str] = &["password", "become_password"];

/// Whether `key` is a setting.
pub fn is_setting(key: &str) -> bool {
    SETTINGS.iter().any(|(name, _)| *name == key)
}

/// The pyfleet setting an Ansible variable sets; `None` for a plain variable.
pub fn from_ansible(variable: &str) -> Option<&'static str> {
    Some(match variable {
        "ansible_host" | "ansible_ssh_host" => "address",
        "ansible_user" | "ansible_ssh_user" => "user",
        "ansible_port" | "ansible_ssh_port" => "port",
        "ansible_connection" => "method",
        "ansible_python_interpreter" => "python",
        "ansible_ssh_private_key_file" | "ansible_private_key_file" => "identity",
        "ansible_password" | "ansible_ssh_pass" | "ansible_ssh_password" => "password",
        "ansible_ssh_common_args" => "ssh_args",
        "ansible_ssh_extra_args" => "ssh_extra_args",
        "ansible_timeout" => "ssh_connect_timeout",
        "ansible_become" => "become",
        "ansible_become_method" => "become_method",
        "ansible_become_user" => "become_user",
        "ansible_become_password" | "ansible_become_pass" => "become_password",
        _ => return None,
    })
}
