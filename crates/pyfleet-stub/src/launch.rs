//! Starting the interpreter on the pack: the pack's start-up configuration lowered
//! for the chosen interpreter, what only a launcher can apply (working directory,
//! umask, resource limits), then `exec`, so the interpreter takes this process's
//! place: its exit status and the signals sent to it are the app's own.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::stat::{Mode, umask};
use pyfleet_startup::discovery::Interpreter;
use pyfleet_startup::lower;

use crate::error::LaunchError;
use crate::metadata::PackMetadata;

/// Tells the archive's `__main__` where its native extensions are extracted (the
/// content-addressed directory itself); it removes the variable before the app runs.
pub const NATIVE_DIR_VAR: &str = "PYFLEET_PACK_NATIVE_DIR";
/// The root of the native extension cache, if set (else `$XDG_CACHE_HOME/pyfleet/pack`,
/// else `~/.cache/pyfleet/pack`).
pub const CACHE_ROOT_VAR: &str = "PYFLEET_PACK_CACHE";
/// Set to 1 to print the interpreter command line on stderr before it starts.
pub const VERBOSE_VAR: &str = "PYFLEET_PACK_VERBOSE";

/// Everything needed to start the interpreter.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The interpreter.
    pub program: PathBuf,
    /// Its arguments: options, the pack, then the user's arguments.
    pub args: Vec<OsString>,
    /// Its complete environment.
    pub env: Vec<(OsString, OsString)>,
    /// Change to this directory first.
    pub cwd: Option<PathBuf>,
    /// Set this umask first.
    pub umask: Option<u32>,
    /// (Python resource name, soft, hard): -2 keeps a limit, -1 lifts it.
    pub rlimits: Vec<(String, i64, i64)>,
}

/// Plans the start of `interpreter` on the pack at `app` with `user_args`, given
/// this process's `environment`. Pure: nothing is changed yet.
pub fn plan_launch(
    metadata: &PackMetadata,
    interpreter: &Interpreter,
    app: &Path,
    user_args: impl IntoIterator<Item = OsString>,
    environment: impl IntoIterator<Item = (OsString, OsString)>,
    native_dir: Option<PathBuf>,
) -> Result<Launch, LaunchError> {
    let plan =
        lower(&metadata.startup, &interpreter.target).map_err(|error| LaunchError::Startup {
            interpreter: interpreter.path.clone(),
            error,
        })?;
    let stage = &plan.first_stage;
    // `python APP` puts APP itself first on sys.path, never its directory, so the
    // safe-path emulation has nothing to remove. Replacing sys.path or argv would
    // break the pack: `pyfleet pack` refuses those settings, and so does this.
    if stage.sys_path.is_some() || stage.argv.is_some() {
        return Err(LaunchError::Unsupported(
            "its start-up settings replace sys.path or sys.argv, which a pack cannot honour".into(),
        ));
    }
    let cwd = stage.cwd.as_ref().map(PathBuf::from);
    // A relative path to the pack would name another file after the chdir.
    let app = match (&cwd, app.is_relative()) {
        (Some(_), true) => std::env::current_dir()
            .map_err(|error| {
                LaunchError::FirstStage(format!("cannot read the working directory: {error}"))
            })?
            .join(app),
        _ => app.to_path_buf(),
    };
    let mut args: Vec<OsString> = plan.args.iter().map(OsString::from).collect();
    args.push(app.into_os_string());
    args.extend(user_args);
    let mut env = plan.env.apply(environment);
    if let Some(dir) = native_dir {
        env.retain(|(key, _)| key != NATIVE_DIR_VAR);
        env.push((NATIVE_DIR_VAR.into(), dir.into_os_string()));
    }
    Ok(Launch {
        program: interpreter.path.clone(),
        args,
        env,
        cwd,
        umask: stage.umask,
        rlimits: stage.rlimits.clone(),
    })
}

/// Where the native extensions of a pack with `key` are extracted.
pub fn native_dir(key: &str, cache_root: Option<OsString>) -> Option<PathBuf> {
    let root = match cache_root.filter(|root| !root.is_empty()) {
        Some(root) => PathBuf::from(root),
        None => pyfleet_startup::discovery::disk_cache::default_dir()?.join("pack"),
    };
    Some(root.join(key))
}

/// Applies what only a launcher can, then replaces this process with the
/// interpreter. Returns only if that failed.
pub fn exec(launch: Launch) -> LaunchError {
    if let Err(error) = apply_first_stage(&launch) {
        return error;
    }
    if std::env::var_os(VERBOSE_VAR).is_some_and(|value| value == "1") {
        let words: Vec<String> = std::iter::once(launch.program.as_os_str())
            .chain(launch.args.iter().map(OsString::as_os_str))
            .map(|word| word.to_string_lossy().into_owned())
            .collect();
        eprintln!("pyfleet pack: exec {}", words.join(" "));
    }
    let error = Command::new(&launch.program)
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .exec();
    LaunchError::Exec {
        program: launch.program,
        argument_bytes: launch.args.iter().map(|a| a.len() + 1).sum(),
        error,
    }
}

fn apply_first_stage(launch: &Launch) -> Result<(), LaunchError> {
    if let Some(dir) = &launch.cwd {
        std::env::set_current_dir(dir).map_err(|error| {
            LaunchError::FirstStage(format!("cannot change to {}: {error}", dir.display()))
        })?;
    }
    if let Some(mask) = launch.umask {
        umask(Mode::from_bits_truncate(mask as nix::libc::mode_t));
    }
    for (name, soft, hard) in &launch.rlimits {
        let resource = resource(name)
            .ok_or_else(|| LaunchError::FirstStage(format!("unknown resource limit {name}")))?;
        let (current_soft, current_hard) = getrlimit(resource)
            .map_err(|error| LaunchError::FirstStage(format!("cannot read {name}: {error}")))?;
        let pick = |wanted: i64, current: u64| match wanted {
            -2 => current,
            -1 => nix::libc::RLIM_INFINITY,
            n => n as u64,
        };
        setrlimit(
            resource,
            pick(*soft, current_soft),
            pick(*hard, current_hard),
        )
        .map_err(|error| LaunchError::FirstStage(format!("cannot set {name}: {error}")))?;
    }
    Ok(())
}

fn resource(python_name: &str) -> Option<Resource> {
    Some(match python_name {
        "RLIMIT_AS" => Resource::RLIMIT_AS,
        "RLIMIT_CORE" => Resource::RLIMIT_CORE,
        "RLIMIT_CPU" => Resource::RLIMIT_CPU,
        "RLIMIT_DATA" => Resource::RLIMIT_DATA,
        "RLIMIT_FSIZE" => Resource::RLIMIT_FSIZE,
        "RLIMIT_NOFILE" => Resource::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => Resource::RLIMIT_NPROC,
        "RLIMIT_STACK" => Resource::RLIMIT_STACK,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyfleet_startup::discovery::CandidateSource;
    use pyfleet_startup::{InheritEnv, PythonTarget, StartupConfig};

    fn interpreter(target: PythonTarget) -> Interpreter {
        Interpreter {
            path: "/usr/bin/python3".into(),
            real_path: "/usr/bin/python3".into(),
            source: CandidateSource::Path,
            also_found: Vec::new(),
            target,
            release_level: "final".into(),
            serial: 0,
            executable: "/usr/bin/python3".into(),
            prefix: "/usr".into(),
            base_prefix: "/usr".into(),
            is_virtualenv: false,
            pointer_width: 64,
            abiflags: String::new(),
            free_threaded: false,
            platform: "linux".into(),
            pypy_version: None,
        }
    }

    fn metadata(startup: StartupConfig) -> PackMetadata {
        PackMetadata {
            entry: "app:main".into(),
            python: "cpython==3.11".into(),
            startup,
            bytecode: None,
            native: None,
            made_by: "tests".into(),
        }
    }

    #[test]
    fn options_come_before_the_pack_and_the_arguments_after() {
        let startup = StartupConfig {
            inherit_env: InheritEnv::AllButPython,
            ..StartupConfig::system()
        };
        let launch = plan_launch(
            &metadata(startup),
            &interpreter(PythonTarget::cpython(3, 11, 2)),
            Path::new("/opt/app"),
            ["-I".into(), "x".into()],
            [
                ("PYTHONPATH".into(), "/leak".into()),
                ("HOME".into(), "/home/u".into()),
            ],
            Some("/cache/pack/00ff".into()),
        )
        .unwrap();
        assert_eq!(launch.program, PathBuf::from("/usr/bin/python3"));
        assert_eq!(launch.args, ["-I", "-B", "/opt/app", "-I", "x"]);
        assert!(launch.env.contains(&("HOME".into(), "/home/u".into())));
        assert!(launch.env.iter().all(|(key, _)| key != "PYTHONPATH"));
        assert!(
            launch
                .env
                .contains(&(NATIVE_DIR_VAR.into(), "/cache/pack/00ff".into()))
        );
    }

    #[test]
    fn python_2_gets_its_own_spelling_and_a_relative_pack_survives_a_chdir() {
        let startup = StartupConfig {
            cwd: Some("/srv".into()),
            umask: Some(0o077),
            ..StartupConfig::system()
        };
        let launch = plan_launch(
            &metadata(startup),
            &interpreter(PythonTarget::cpython(2, 7, 18)),
            Path::new("bin/app"),
            [],
            [],
            None,
        )
        .unwrap();
        assert_eq!(&launch.args[..2], ["-E", "-s"]);
        let app = PathBuf::from(launch.args.last().unwrap());
        assert!(app.is_absolute() && app.ends_with("bin/app"), "{app:?}");
        assert_eq!(launch.cwd, Some(PathBuf::from("/srv")));
        assert_eq!(launch.umask, Some(0o077));
    }

    #[test]
    fn the_native_directory_follows_the_cache_root() {
        assert_eq!(
            native_dir("00ff", Some("/tmp/c".into())),
            Some(PathBuf::from("/tmp/c/00ff"))
        );
        let default = native_dir("00ff", None).unwrap();
        assert!(default.ends_with("pyfleet/pack/00ff"), "{default:?}");
    }
}
