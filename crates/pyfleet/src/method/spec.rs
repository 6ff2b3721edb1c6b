//! Hops written as text, as the command line takes them:
//! `METHOD:SPEC[,option=value…]`.
//!
//! | method | SPEC | options |
//! |---|---|---|
//! | ssh | `[USER@]HOST[:PORT]` (`[::1]:22` for IPv6) | user, port, identity, config, known_hosts, host_key=enforce\|accept-new\|ignore, ssh_connect_timeout, keepalive, compression, mux[=SECS], control_dir, ssh_arg (repeatable) |
//! | sudo | `USER` (empty: root) | preserve_env, login, arg (repeatable), role, type |
//! | su | `USER` (empty: root) | login, shell |
//! | doas | `USER` (empty: root) | |
//! | podman, docker | `CONTAINER` | user, workdir |
//! | kubectl | `[NAMESPACE/]POD` | namespace, container, context |
//! | lxc, incus | `CONTAINER` | user=UID, group=GID, cwd |
//! | nsenter | `PID` | ns=KIND+KIND… (default all), uid, gid |
//! | unshare | `KIND+KIND…` (mount, uts, ipc, net, pid, user, cgroup, time) | map_root_user |
//! | chroot | `DIR` | userspec |
//!
//! Every method also takes python, python_target (`3.11`, `pypy3.9`), name,
//! connect_timeout (seconds) and program; sudo, su, doas and ssh take
//! password_env=VAR (the variable holding the password), ask_password (ask on the
//! terminal), prompt=TEXT (another password prompt) and unknown_prompt_timeout.
//! A password itself is never accepted in the text: command lines are visible to
//! every user of the machine and end up in shell histories. Booleans are `yes`,
//! `no`, `true`, `false`, `1`, `0`, or the bare name for yes. Values cannot contain
//! commas.

use std::path::PathBuf;
use std::time::Duration;

use super::{
    ChrootOptions, CommonOptions, DoasOptions, DockerOptions, Hop, HostKeyPolicy, KubectlOptions,
    LxcOptions, Namespace, NsenterOptions, PodmanOptions, SshOptions, SuOptions, SudoOptions,
    UnshareOptions,
};
use crate::startup::{PythonTarget, PythonVersion};

/// Where a hop's password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// No password.
    None,
    /// The environment variable of this name.
    Env(String),
    /// Ask on the terminal (stdin must be one).
    Ask,
}

/// A parsed hop and where its password comes from.
#[derive(Debug, Clone)]
pub struct HopSpec {
    /// The method and its options (without the password).
    pub hop: Hop,
    /// Where the password comes from.
    pub password: PasswordSource,
}

/// Parse `METHOD:SPEC[,option=value…]`; the error names the offending part.
pub fn parse_hop(text: &str) -> Result<HopSpec, String> {
    let (method, rest) = text.split_once(':').ok_or_else(|| {
        format!("{text:?}: expected METHOD:SPEC, e.g. ssh:root@web1 or sudo:postgres")
    })?;
    let mut parts = rest.split(',');
    let spec = parts.next().unwrap_or_default().trim();
    let mut options = Vec::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, value) = match part.split_once('=') {
            Some((key, value)) => (key.trim(), Some(value.trim())),
            None => (part, None),
        };
        options.push((key.to_string(), value.map(str::to_string)));
    }
    hop_from_parts(method, spec, &options)
}

/// A hop from its method, its SPEC and `option=value` pairs (a bare option is
/// `None`), with the meaning [`parse_hop`] gives them; for callers that hold the
/// parts already, such as inventories.
pub fn hop_from_parts(
    method: &str,
    spec: &str,
    options: &[(String, Option<String>)],
) -> Result<HopSpec, String> {
    if options.iter().any(|(key, _)| key == "password") {
        return Err(format!(
            "{method}: a password is never taken from the command line (other users see \
             command lines, and shells keep them); use password_env=VAR to name an \
             environment variable that holds it, or ask_password to be asked"
        ));
    }
    let mut password = PasswordSource::None;
    let mut hop = base_hop(method, spec)?;
    for (key, value) in options {
        let value = value.as_deref();
        let applied = match key.as_str() {
            "password_env" => {
                password = PasswordSource::Env(required(key, value)?.to_string());
                true
            }
            "ask_password" => {
                if boolean(key, value)? {
                    password = PasswordSource::Ask;
                }
                true
            }
            _ => apply_common(hop.common_mut(), key, value)? || apply_method(&mut hop, key, value)?,
        };
        if !applied {
            return Err(format!(
                "{method}: unknown option {key:?} (see `pyfleet call --help` for each method's options)"
            ));
        }
    }
    if password != PasswordSource::None
        && !matches!(hop, Hop::Sudo(_) | Hop::Su(_) | Hop::Doas(_) | Hop::Ssh(_))
    {
        return Err(format!("{method}: this method never asks for a password"));
    }
    Ok(HopSpec { hop, password })
}

fn base_hop(method: &str, spec: &str) -> Result<Hop, String> {
    let need = |what: &str| {
        if spec.is_empty() {
            Err(format!("{method}: expected {method}:{what}"))
        } else {
            Ok(spec)
        }
    };
    Ok(match method {
        "ssh" => Hop::Ssh(parse_ssh_destination(need("[USER@]HOST[:PORT]")?)?),
        "sudo" if spec.is_empty() => Hop::Sudo(SudoOptions::root()),
        "sudo" => Hop::Sudo(SudoOptions::new(spec)),
        "su" if spec.is_empty() => Hop::Su(SuOptions::root()),
        "su" => Hop::Su(SuOptions::new(spec)),
        "doas" if spec.is_empty() => Hop::Doas(DoasOptions::root()),
        "doas" => Hop::Doas(DoasOptions::new(spec)),
        "podman" => Hop::Podman(PodmanOptions::new(need("CONTAINER")?)),
        "docker" => Hop::Docker(DockerOptions::new(need("CONTAINER")?)),
        "kubectl" => {
            let pod = need("[NAMESPACE/]POD")?;
            match pod.split_once('/') {
                Some((namespace, pod)) => {
                    Hop::Kubectl(KubectlOptions::new(pod).namespace(namespace))
                }
                None => Hop::Kubectl(KubectlOptions::new(pod)),
            }
        }
        "lxc" => Hop::Lxc(LxcOptions::new(need("CONTAINER")?)),
        "incus" => Hop::Lxc(LxcOptions::incus(need("CONTAINER")?)),
        "nsenter" => {
            let pid = need("PID")?;
            Hop::Nsenter(NsenterOptions::new(number("nsenter PID", pid)?))
        }
        "unshare" => Hop::Unshare(UnshareOptions::new(namespaces(need("KIND+KIND…")?)?)),
        "chroot" => Hop::Chroot(ChrootOptions::new(need("DIR")?)),
        other => {
            return Err(format!(
                "unknown method {other:?}: use ssh, sudo, su, doas, podman, docker, kubectl, \
                 lxc, incus, nsenter, unshare or chroot"
            ));
        }
    })
}

/// `[USER@]HOST[:PORT]`, with `[ADDRESS]` for IPv6.
fn parse_ssh_destination(text: &str) -> Result<SshOptions, String> {
    let (user, host_port) = match text.rsplit_once('@') {
        Some((user, rest)) => (Some(user), rest),
        None => (None, text),
    };
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let (host, after) = inner
            .split_once(']')
            .ok_or_else(|| format!("ssh: {text:?} has '[' without ']'"))?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("ssh: unexpected {after:?} after ']' in {text:?}")),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(format!("ssh: no host in {text:?}"));
    }
    let mut options = SshOptions::new(host);
    if let Some(user) = user {
        options = options.user(user);
    }
    if let Some(port) = port {
        options = options.port(number("ssh port", port)?);
    }
    Ok(options)
}

/// Apply one option every method takes (python, python_target, name,
/// connect_timeout, prompt, unknown_prompt_timeout) to `hop`; `false` when `key`
/// is not one of them.
pub fn apply_common_option(hop: &mut Hop, key: &str, value: Option<&str>) -> Result<bool, String> {
    apply_common(hop.common_mut(), key, value)
}

fn apply_common(
    common: &mut CommonOptions,
    key: &str,
    value: Option<&str>,
) -> Result<bool, String> {
    match key {
        "python" => common.python = required(key, value)?.to_string(),
        "python_target" => common.target = Some(python_target(required(key, value)?)?),
        "name" => common.name = Some(required(key, value)?.to_string()),
        "connect_timeout" => common.connect_timeout = Some(seconds(key, value)?),
        "program" => common.program = Some(required(key, value)?.to_string()),
        "prompt" => common.prompts.push(required(key, value)?.to_string()),
        "unknown_prompt_timeout" => common.unknown_prompt = Some(seconds(key, value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn apply_method(hop: &mut Hop, key: &str, value: Option<&str>) -> Result<bool, String> {
    let text = || required(key, value).map(str::to_string);
    let taken = std::mem::replace(hop, Hop::Sudo(SudoOptions::root()));
    let (updated, applied) = match taken {
        Hop::Ssh(o) => {
            let o2 = match key {
                "user" => Some(o.clone().user(text()?)),
                "port" => Some(o.clone().port(number(key, required(key, value)?)?)),
                "identity" => Some(o.clone().identity_file(expand_home(&text()?))),
                "config" => Some(o.clone().config_file(expand_home(&text()?))),
                "known_hosts" => Some(o.clone().known_hosts(expand_home(&text()?))),
                "host_key" => Some(o.clone().host_key_policy(match required(key, value)? {
                    "enforce" | "yes" => HostKeyPolicy::Enforce,
                    "accept-new" | "accept_new" => HostKeyPolicy::AcceptNew,
                    "ignore" | "no" => HostKeyPolicy::Ignore,
                    other => {
                        return Err(format!(
                            "host_key={other}: use enforce, accept-new or ignore"
                        ));
                    }
                })),
                "ssh_connect_timeout" => Some(o.clone().ssh_connect_timeout(seconds(key, value)?)),
                "keepalive" => Some(o.clone().keepalive(seconds(key, value)?)),
                "compression" => Some(o.clone().compression(boolean(key, value)?)),
                "mux" => match value {
                    None => Some(o.clone().multiplex(Duration::from_secs(60))),
                    Some(v) if is_yes(v) => Some(o.clone().multiplex(Duration::from_secs(60))),
                    Some(v) if is_no(v) => Some(o.clone()),
                    Some(_) => Some(o.clone().multiplex(seconds(key, value)?)),
                },
                "control_dir" => Some(o.clone().control_dir(expand_home(&text()?))),
                "ssh_arg" => Some(o.clone().ssh_arg(text()?)),
                _ => None,
            };
            match o2 {
                Some(o2) => (Hop::Ssh(o2), true),
                None => (Hop::Ssh(o), false),
            }
        }
        Hop::Sudo(o) => match key {
            "preserve_env" => (Hop::Sudo(o.preserve_env(boolean(key, value)?)), true),
            "login" => (Hop::Sudo(o.login_shell(boolean(key, value)?)), true),
            "arg" => (Hop::Sudo(o.extra_arg(text()?)), true),
            "role" => (Hop::Sudo(o.selinux_role(text()?)), true),
            "type" => (Hop::Sudo(o.selinux_type(text()?)), true),
            _ => (Hop::Sudo(o), false),
        },
        Hop::Su(o) => match key {
            "login" => (Hop::Su(o.login(boolean(key, value)?)), true),
            "shell" => (Hop::Su(o.shell(text()?)), true),
            _ => (Hop::Su(o), false),
        },
        Hop::Podman(o) => match key {
            "user" => (Hop::Podman(o.user(text()?)), true),
            "workdir" => (Hop::Podman(o.workdir(text()?)), true),
            _ => (Hop::Podman(o), false),
        },
        Hop::Docker(o) => match key {
            "user" => (Hop::Docker(o.user(text()?)), true),
            "workdir" => (Hop::Docker(o.workdir(text()?)), true),
            _ => (Hop::Docker(o), false),
        },
        Hop::Kubectl(o) => match key {
            "namespace" => (Hop::Kubectl(o.namespace(text()?)), true),
            "container" => (Hop::Kubectl(o.container(text()?)), true),
            "context" => (Hop::Kubectl(o.kube_context(text()?)), true),
            _ => (Hop::Kubectl(o), false),
        },
        Hop::Lxc(o) => match key {
            "user" => (Hop::Lxc(o.user(number(key, required(key, value)?)?)), true),
            "group" => (Hop::Lxc(o.group(number(key, required(key, value)?)?)), true),
            "cwd" => (Hop::Lxc(o.cwd(text()?)), true),
            _ => (Hop::Lxc(o), false),
        },
        Hop::Nsenter(o) => match key {
            "ns" => (
                Hop::Nsenter(o.namespaces(namespaces(required(key, value)?)?)),
                true,
            ),
            "uid" => (
                Hop::Nsenter(o.uid(number(key, required(key, value)?)?)),
                true,
            ),
            "gid" => (
                Hop::Nsenter(o.gid(number(key, required(key, value)?)?)),
                true,
            ),
            _ => (Hop::Nsenter(o), false),
        },
        Hop::Unshare(o) => match key {
            "map_root_user" => (Hop::Unshare(o.map_root_user(boolean(key, value)?)), true),
            _ => (Hop::Unshare(o), false),
        },
        Hop::Chroot(o) => match key {
            "userspec" => (Hop::Chroot(o.userspec(text()?)), true),
            _ => (Hop::Chroot(o), false),
        },
        other @ Hop::Doas(_) => (other, false),
    };
    *hop = updated;
    Ok(applied)
}

fn required<'a>(key: &str, value: Option<&'a str>) -> Result<&'a str, String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("option {key} needs a value: {key}=VALUE"))
}

fn is_yes(value: &str) -> bool {
    matches!(value, "yes" | "true" | "1" | "on")
}

fn is_no(value: &str) -> bool {
    matches!(value, "no" | "false" | "0" | "off")
}

fn boolean(key: &str, value: Option<&str>) -> Result<bool, String> {
    match value {
        None => Ok(true),
        Some(v) if is_yes(v) => Ok(true),
        Some(v) if is_no(v) => Ok(false),
        Some(other) => Err(format!("{key}={other}: use yes or no")),
    }
}

fn number<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{what} {text:?} is not a valid number"))
}

fn seconds(key: &str, value: Option<&str>) -> Result<Duration, String> {
    let text = required(key, value)?;
    let secs: f64 = text
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .ok_or_else(|| format!("{key}={text}: expected a positive number of seconds"))?;
    Ok(Duration::from_secs_f64(secs))
}

fn namespaces(text: &str) -> Result<Vec<Namespace>, String> {
    text.split('+')
        .map(|name| {
            Namespace::from_name(name.trim()).ok_or_else(|| {
                format!("unknown namespace {name:?}: use mount, uts, ipc, net, pid, user, cgroup or time")
            })
        })
        .collect()
}

/// `3.11`, `3.11.2`, `cpython3.11`, `pypy3.9`.
fn python_target(text: &str) -> Result<PythonTarget, String> {
    let (pypy, version) = if let Some(v) = text.strip_prefix("pypy") {
        (true, v)
    } else {
        (false, text.strip_prefix("cpython").unwrap_or(text))
    };
    let version: PythonVersion = version
        .parse()
        .map_err(|_| format!("python_target={text}: expected a version like 3.11 or pypy3.9"))?;
    Ok(PythonTarget {
        implementation: if pypy {
            crate::startup::Implementation::PyPy
        } else {
            crate::startup::Implementation::CPython
        },
        version,
    })
}

fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(spec: &str) -> Vec<String> {
        let plan = parse_hop(spec).unwrap().hop.plan().unwrap();
        // Without the loader's `-c SOURCE` at the end.
        plan.argv[..plan.argv.len() - 2].to_vec()
    }

    #[test]
    fn ssh_destinations_and_options() {
        let spec = parse_hop("ssh:root@web1:2222,identity=/k,host_key=enforce,mux=30").unwrap();
        assert_eq!(spec.hop.target_label(), "root@web1:2222");
        assert_eq!(spec.password, PasswordSource::None);
        let v6 = parse_hop("ssh:[::1]:22").unwrap();
        assert_eq!(v6.hop.target_label(), "::1:22");
        assert!(parse_hop("ssh:").unwrap_err().contains("expected ssh:"));
        assert!(
            parse_hop("ssh:h:port")
                .unwrap_err()
                .contains("not a valid number")
        );
        assert!(
            parse_hop("ssh:h,host_key=maybe")
                .unwrap_err()
                .contains("enforce")
        );
    }

    #[test]
    fn passwords_never_come_from_the_text() {
        let error = parse_hop("sudo:pf,password=hunter2").unwrap_err();
        assert!(error.contains("password_env"), "{error}");
        assert!(!error.contains("hunter2"));
        let env = parse_hop("sudo:pf,password_env=PF_PASS").unwrap();
        assert_eq!(env.password, PasswordSource::Env("PF_PASS".into()));
        let ask = parse_hop("su:pf,ask_password").unwrap();
        assert_eq!(ask.password, PasswordSource::Ask);
        assert!(
            parse_hop("podman:c,ask_password")
                .unwrap_err()
                .contains("never asks")
        );
    }

    #[test]
    fn every_method_parses_into_its_command() {
        assert_eq!(
            argv("sudo:pf,login"),
            ["sudo", "-n", "-i", "-u", "pf", "--", "python3"]
        );
        assert_eq!(argv("doas:"), ["doas", "-n", "--", "python3"]);
        assert_eq!(
            argv("podman:box,user=1000,python=/usr/bin/python3.11"),
            [
                "podman",
                "exec",
                "-i",
                "--detach-keys=",
                "--user",
                "1000",
                "box",
                "/usr/bin/python3.11"
            ]
        );
        assert_eq!(
            argv("docker:box,workdir=/srv"),
            [
                "docker",
                "exec",
                "-i",
                "--workdir",
                "/srv",
                "box",
                "python3"
            ]
        );
        assert_eq!(
            argv("kubectl:ns1/pod1,container=app"),
            [
                "kubectl", "exec", "-i", "-n", "ns1", "-c", "app", "pod1", "--", "python3"
            ]
        );
        assert_eq!(
            argv("incus:c1,user=0"),
            [
                "incus",
                "exec",
                "--mode",
                "non-interactive",
                "--user",
                "0",
                "c1",
                "--",
                "python3"
            ]
        );
        assert_eq!(
            argv("nsenter:42,ns=net+mnt"),
            [
                "nsenter", "--target", "42", "--net", "--mount", "--", "python3"
            ]
        );
        assert_eq!(
            argv("unshare:net+pid"),
            [
                "unshare",
                "--net",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                "--",
                "python3"
            ]
        );
        assert_eq!(
            argv("chroot:/srv/root,userspec=nobody"),
            ["chroot", "--userspec=nobody", "--", "/srv/root", "python3"]
        );
        assert!(
            parse_hop("lxc:c,bogus=1")
                .unwrap_err()
                .contains("unknown option")
        );
        assert!(
            parse_hop("telnet:h")
                .unwrap_err()
                .contains("unknown method")
        );
        assert!(
            parse_hop("unshare:space")
                .unwrap_err()
                .contains("unknown namespace")
        );
    }

    #[test]
    fn common_options_apply_to_any_method() {
        let spec =
            parse_hop("docker:c,python_target=pypy3.9,name=box,connect_timeout=2.5").unwrap();
        let Hop::Docker(options) = &spec.hop else {
            panic!()
        };
        assert_eq!(options.common().target, Some(PythonTarget::pypy(3, 9, 0)));
        assert_eq!(options.common().name.as_deref(), Some("box"));
        assert_eq!(
            options.common().connect_timeout,
            Some(Duration::from_millis(2500))
        );
        assert!(parse_hop("docker:c,connect_timeout=-1").is_err());
    }
}
