//! From a host's merged settings to how to reach it: a local interpreter, or a
//! chain of hops (ssh, then sudo …) with where each hop's password comes from.
//! Pure: nothing is read from the environment or the terminal here.

use std::fmt;

use pyfleet::method::{
    Hop, LocalOptions, Password, PasswordSource, apply_common_option, hop_from_parts,
};
use pyfleet::startup::StartupConfig;

use crate::ansible::shell_words;
use crate::error::InventoryError;
use crate::model::{Inventory, ResolvedHost};
use crate::value::{Var, Vars};

/// Where a hop's password comes from.
#[derive(Clone)]
pub enum Secret {
    /// No password.
    None,
    /// This environment variable.
    Env(String),
    /// Ask on the terminal.
    Ask,
    /// Written in the inventory (Ansible's `ansible_password`, `ansible_become_password`).
    Inline(Password),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::None => f.write_str("none"),
            Secret::Env(name) => write!(f, "env {name}"),
            Secret::Ask => f.write_str("ask"),
            Secret::Inline(_) => f.write_str("inline"),
        }
    }
}

/// One hop of a host's chain.
#[derive(Debug, Clone)]
pub struct PlannedHop {
    /// The method and its options.
    pub hop: Hop,
    /// Its password.
    pub password: Secret,
}

/// How a host is reached.
#[derive(Clone)]
pub enum Target {
    /// An interpreter on this machine.
    Local(Box<LocalOptions>),
    /// A chain of hops from this machine, in order; the last one runs the code.
    Hops(Vec<PlannedHop>),
}

/// Everything needed to start a host's context.
#[derive(Clone)]
pub struct HostPlan {
    /// The host's inventory name (also the context's name).
    pub name: String,
    /// Its groups.
    pub groups: Vec<String>,
    /// Its variables.
    pub vars: Vars,
    /// How to reach it.
    pub target: Target,
}

impl HostPlan {
    /// The chain in one line: `local python3.11`, `ssh pfkey@10.0.0.1:22 → sudo root`.
    pub fn route(&self) -> String {
        match &self.target {
            Target::Local(_) => "local".to_string(),
            Target::Hops(hops) => hops
                .iter()
                .map(|h| format!("{} {}", h.hop.method_name(), h.hop.target_label()))
                .collect::<Vec<_>>()
                .join(" → "),
        }
    }
}

impl fmt::Debug for HostPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("HostPlan");
        s.field("name", &self.name).field("groups", &self.groups);
        match &self.target {
            Target::Local(options) => s.field("local", &options.startup_config()),
            Target::Hops(hops) => s.field("hops", hops),
        };
        s.field("vars", &self.vars).finish()
    }
}

impl Inventory {
    /// The plan of every host `pattern` selects, in inventory order.
    pub fn plans(&self, pattern: &str) -> Result<Vec<HostPlan>, InventoryError> {
        self.select(pattern)?
            .iter()
            .map(|host| self.plan(host))
            .collect()
    }

    /// How to reach `host`.
    pub fn plan(&self, host: &str) -> Result<HostPlan, InventoryError> {
        let resolved = self.resolve(host).ok_or_else(|| InventoryError::Plan {
            host: host.to_string(),
            message: format!("no such host in {}", self.source()),
        })?;
        plan(&resolved).map_err(|message| InventoryError::Plan {
            host: host.to_string(),
            message,
        })
    }
}

/// Settings every hop of a chain shares (they run the same interpreter setup).
const SHARED: &[&str] = &[
    "python",
    "python_target",
    "connect_timeout",
    "unknown_prompt_timeout",
    "prompt",
];

/// Settings that only mean something for ssh.
const SSH_ONLY: &[(&str, &str)] = &[
    ("port", "port"),
    ("identity", "identity"),
    ("ssh_config", "config"),
    ("known_hosts", "known_hosts"),
    ("host_key", "host_key"),
    ("ssh_connect_timeout", "ssh_connect_timeout"),
    ("keepalive", "keepalive"),
    ("compression", "compression"),
    ("mux", "mux"),
    ("control_dir", "control_dir"),
];

/// Settings that describe the chain; `via` replaces them all.
const CHAIN: &[&str] = &[
    "method",
    "address",
    "user",
    "port",
    "identity",
    "ssh_args",
    "ssh_extra_args",
    "password_env",
    "ask_password",
    "password",
    "become",
    "become_method",
    "become_user",
    "become_password_env",
    "become_ask_password",
    "become_password",
];

struct Settings<'a> {
    vars: &'a Vars,
}

impl Settings<'_> {
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        match self.vars.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_text()
                .map(Some)
                .ok_or_else(|| format!("setting {key} must be a single value, not {value}")),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, String> {
        match self.vars.get(key) {
            None => Ok(false),
            Some(value) => value
                .as_bool()
                .ok_or_else(|| format!("setting {key} must be yes or no, not {value}")),
        }
    }

    fn args(&self, key: &str) -> Result<Vec<String>, String> {
        match self.vars.get(key) {
            None => Ok(Vec::new()),
            Some(Var::Str(line)) => shell_words(line).map_err(|e| format!("setting {key}: {e}")),
            Some(value) => value
                .as_text_list()
                .ok_or_else(|| format!("setting {key} must be a list of arguments, not {value}")),
        }
    }
}

fn plan(host: &ResolvedHost) -> Result<HostPlan, String> {
    let s = Settings {
        vars: &host.settings,
    };
    let startup = match s.text("startup")?.as_deref() {
        None | Some("default") => StartupConfig::default(),
        Some("system") => StartupConfig::system(),
        Some(other) => return Err(format!("startup = {other:?}: use default or system")),
    };
    let python = s.text("python")?.filter(|p| !p.starts_with("auto")); // Ansible's interpreter discovery words
    let mut shared: Vec<(String, Option<String>)> = vec![("name".into(), Some(host.name.clone()))];
    for key in SHARED {
        let value = if *key == "python" {
            python.clone()
        } else {
            s.text(key)?
        };
        if let Some(value) = value {
            shared.push((key.to_string(), Some(value)));
        }
    }
    let finish = |target| HostPlan {
        name: host.name.clone(),
        groups: host.groups.clone(),
        vars: host.vars.clone(),
        target,
    };

    if let Some(via) = host.settings.get("via") {
        if let Some(conflict) = CHAIN.iter().find(|k| host.settings.contains_key(**k)) {
            return Err(format!(
                "`via` gives the whole chain, so {conflict} cannot be set as well; put it in \
                 the hop text (e.g. \"ssh:user@host,port=2222\")"
            ));
        }
        let texts = via
            .as_text_list()
            .ok_or_else(|| format!("via must be a list of hops, not {via}"))?;
        let mut hops = Vec::new();
        for text in &texts {
            let spec =
                pyfleet::method::parse_hop(text).map_err(|e| format!("via {text:?}: {e}"))?;
            let password = match spec.password {
                PasswordSource::None => Secret::None,
                PasswordSource::Env(name) => Secret::Env(name),
                PasswordSource::Ask => Secret::Ask,
            };
            hops.push(PlannedHop {
                hop: spec.hop,
                password,
            });
        }
        return Ok(finish(Target::Hops(with_shared(hops, &shared, &startup)?)));
    }

    let method = normalise_method(s.text("method")?.as_deref().unwrap_or("ssh"))?;
    let mut hops = Vec::new();
    if method == "local" {
        if s.text("python_version")?.is_some() && python.is_some() {
            return Err("give python or python_version, not both".into());
        }
    } else {
        if s.text("python_version")?.is_some() {
            return Err(format!(
                "python_version searches this machine, but {} is reached by {method}; name the \
                 target's interpreter with python (and python_target when a start-up setting \
                 depends on its version)",
                host.name
            ));
        }
        let address = s.text("address")?.unwrap_or_else(|| host.name.clone());
        let mut options: Vec<(String, Option<String>)> = Vec::new();
        let mut spec = address;
        if method == "ssh" {
            if let Some(user) = s.text("user")? {
                options.push(("user".into(), Some(user)));
            }
            for (setting, option) in SSH_ONLY {
                if let Some(value) = s.text(setting)? {
                    options.push((option.to_string(), Some(value)));
                }
            }
            for arg in s
                .args("ssh_args")?
                .into_iter()
                .chain(s.args("ssh_extra_args")?)
            {
                options.push(("ssh_arg".into(), Some(arg)));
            }
            if spec.contains(':') && !spec.starts_with('[') {
                spec = format!("[{spec}]"); // an IPv6 address, not HOST:PORT
            }
        } else if matches!(method.as_str(), "docker" | "podman") {
            // The user inside the container, as with Ansible. ssh settings (often
            // given for a whole fleet in [defaults]) do not apply to other methods.
            if let Some(user) = s.text("user")? {
                options.push(("user".into(), Some(user)));
            }
        }
        let spec = hop_from_parts(&method, &spec, &options)
            .map_err(|e| format!("method {method}: {e}"))?;
        hops.push(PlannedHop {
            hop: spec.hop,
            password: secret(&s, "password", "password_env", "ask_password")?,
        });
    }

    if let Some(become_method) = become_method(&s)? {
        let user = s.text("become_user")?.unwrap_or_default();
        let spec = hop_from_parts(&become_method, &user, &[])
            .map_err(|e| format!("become {become_method}: {e}"))?;
        hops.push(PlannedHop {
            hop: spec.hop,
            password: secret(
                &s,
                "become_password",
                "become_password_env",
                "become_ask_password",
            )?,
        });
    }

    if hops.is_empty() {
        let mut options = LocalOptions::new().startup(startup).name(host.name.clone());
        if let Some(python) = python {
            options = options.python(python);
        }
        if let Some(constraint) = s.text("python_version")? {
            let constraint =
                constraint
                    .parse()
                    .map_err(|e: pyfleet::startup::ConstraintParseError| {
                        format!("python_version: {e}")
                    })?;
            options = options.python_version(constraint);
        }
        // python_target is not needed here: a local interpreter's version is read
        // (one cached probe) before its start-up settings are lowered.
        if let Some(seconds) = s.text("connect_timeout")? {
            options = options.connect_timeout(seconds_value("connect_timeout", &seconds)?);
        }
        return Ok(finish(Target::Local(Box::new(options))));
    }
    Ok(finish(Target::Hops(with_shared(hops, &shared, &startup)?)))
}

/// Apply the shared settings (interpreter, time bounds, context name) and the
/// start-up configuration to every hop.
fn with_shared(
    mut hops: Vec<PlannedHop>,
    shared: &[(String, Option<String>)],
    startup: &StartupConfig,
) -> Result<Vec<PlannedHop>, String> {
    for planned in &mut hops {
        for (key, value) in shared {
            let applied = apply_common_option(&mut planned.hop, key, value.as_deref())?;
            debug_assert!(applied, "{key} is an option of every method");
        }
        planned.hop.common_mut().startup = startup.clone();
    }
    Ok(hops)
}

fn seconds_value(key: &str, text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("{key} = {text:?}: expected a positive number of seconds"))
}

fn secret(s: &Settings<'_>, inline: &str, env: &str, ask: &str) -> Result<Secret, String> {
    if let Some(name) = s.text(env)? {
        return Ok(Secret::Env(name));
    }
    if s.flag(ask)? {
        return Ok(Secret::Ask);
    }
    Ok(match s.text(inline)? {
        Some(text) => Secret::Inline(Password::new(text)),
        None => Secret::None,
    })
}

/// sudo, su or doas when the host becomes another user; `None` when it does not.
fn become_method(s: &Settings<'_>) -> Result<Option<String>, String> {
    let chosen = s.text("become_method")?;
    let Some(value) = s.vars.get("become") else {
        return Ok(None);
    };
    let method = match value.as_bool() {
        Some(false) => return Ok(None),
        Some(true) => chosen.unwrap_or_else(|| "sudo".to_string()),
        None => value.as_text().unwrap_or_default(),
    };
    match method.as_str() {
        "sudo" | "su" | "doas" => Ok(Some(method)),
        other => Err(format!("become = {other:?}: use sudo, su or doas")),
    }
}

/// pyfleet's method name for an inventory's (Ansible's connection plugins included).
fn normalise_method(method: &str) -> Result<String, String> {
    let short = method.rsplit('.').next().unwrap_or(method);
    Ok(match short {
        "ssh" | "smart" | "paramiko" | "paramiko_ssh" | "libssh" => "ssh",
        "local" => "local",
        "docker" | "docker_api" => "docker",
        "podman" => "podman",
        "kubectl" => "kubectl",
        "lxc" | "lxd" => "lxc",
        "incus" => "incus",
        "nsenter" => "nsenter",
        "chroot" => "chroot",
        other => {
            return Err(format!(
                "method {other:?} cannot run Python here; use ssh, local, docker, podman, \
                 kubectl, lxc, incus, nsenter or chroot"
            ));
        }
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use crate::toml_format::parse_toml;
    use crate::{Secret, Target};

    #[test]
    fn ssh_then_become_shares_the_interpreter_and_the_name() {
        let inv = parse_toml(
            r#"
[defaults]
python = "/usr/bin/python3.11"
startup = "system"
[hosts.db1]
address = "10.0.0.12"
user = "admin"
port = 2222
ssh_args = "-o ServerAliveInterval=5"
password_env = "DB_SSH_PASSWORD"
become = "sudo"
become_user = "postgres"
become_ask_password = true
"#,
            "f.toml",
        )
        .unwrap();
        let plan = inv.plan("db1").unwrap();
        assert_eq!(
            plan.route(),
            "ssh admin@10.0.0.12:2222 → sudo user postgres"
        );
        let Target::Hops(hops) = &plan.target else {
            panic!("expected hops")
        };
        assert!(matches!(&hops[0].password, Secret::Env(v) if v == "DB_SSH_PASSWORD"));
        assert!(matches!(hops[1].password, Secret::Ask));
        for planned in hops {
            let mut hop = planned.hop.clone();
            let common = hop.common_mut();
            assert_eq!(common.python, "/usr/bin/python3.11");
            assert_eq!(common.name.as_deref(), Some("db1"));
            assert!(common.startup.isolated, "the system preset is isolated");
        }
    }

    #[test]
    fn local_hosts_and_local_become() {
        let inv = parse_toml(
            r#"
[hosts.here]
method = "local"
python_version = ">=3.8"
[hosts.there]
method = "local"
become = "yes"
become_user = "pftarget"
"#,
            "f.toml",
        )
        .unwrap();
        assert!(matches!(inv.plan("here").unwrap().target, Target::Local(_)));
        assert_eq!(inv.plan("there").unwrap().route(), "sudo user pftarget");
    }

    #[test]
    fn via_chains_and_conflicts() {
        let inv = parse_toml(
            r#"
[hosts.deep]
via = ["ssh:admin@bastion", "ssh:app@inner", "doas:www"]
[hosts.mixed]
via = ["ssh:admin@bastion"]
user = "x"
[hosts.remote_search]
python_version = ">=3.8"
[hosts.winbox]
method = "winrm"
[hosts.bad_become]
become = "runas"
[hosts.container]
method = "docker"
address = "web"
port = 22
[hosts.pod]
method = "kubectl"
address = "ns/web-0"
user = "deploy"
"#,
            "f.toml",
        )
        .unwrap();
        assert_eq!(
            inv.plan("deep").unwrap().route(),
            "ssh admin@bastion → ssh app@inner → doas user www"
        );
        let error = |host: &str| inv.plan(host).unwrap_err().to_string();
        assert!(error("mixed").contains("`via` gives the whole chain, so user"));
        assert!(error("remote_search").contains("python_version searches this machine"));
        assert!(error("winbox").contains("method \"winrm\" cannot run Python"));
        assert!(error("bad_become").contains("use sudo, su or doas"));
        assert_eq!(
            inv.plan("container").unwrap().route(),
            "docker container web"
        );
        assert!(inv.plan("pod").is_ok(), "an ssh user does not stop a pod");
    }
}
