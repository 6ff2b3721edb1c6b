//! The start-up configuration a pack records: the command line's start-up options
//! over the pack's default, checked against the packing interpreter.

use pyfleet::startup::{InheritEnv, PythonTarget, StartupConfig, lower};

use super::PackError;
use crate::startup_args::StartupArgs;

/// The configuration for `args`. Without `--preset`, the "system" preset with the
/// user's environment passed on (less PYTHON* variables): the interpreter is
/// isolated, while the app still sees the variables it reads (its own settings,
/// proxies, credentials), as a program run from a shell does.
pub fn pack_startup(args: &StartupArgs, target: &PythonTarget) -> Result<StartupConfig, PackError> {
    if !args.sys_path.is_empty() || !args.argv.is_empty() {
        return Err(PackError::usage(
            "--sys-path and --argv do not apply to packs: the app's sys.path starts with the \
             pack itself and its argv is the command line it is run with",
        ));
    }
    if args.verify.is_some() {
        return Err(PackError::usage(
            "--verify does not apply to packs: the interpreter runs the app directly, with no \
             pyfleet core to report its configuration",
        ));
    }
    let mut with_preset = args.clone();
    with_preset
        .preset
        .get_or_insert_with(|| "system".to_string());
    let mut config = with_preset.config().map_err(PackError::usage)?;
    if args.preset.is_none() && args.keep_env.is_empty() && !args.inherit_python_env {
        config.inherit_env = InheritEnv::AllButPython;
    }
    // Refused here, with the packing interpreter, rather than by every run.
    lower(&config, target).map_err(|error| PackError::usage(error.to_string()))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY311: PythonTarget = PythonTarget::cpython(3, 11, 7);

    #[test]
    fn default_is_system_with_the_users_environment() {
        let config = pack_startup(&StartupArgs::default(), &PY311).unwrap();
        assert!(config.isolated && config.safe_path && config.dont_write_bytecode);
        assert_eq!(config.inherit_env, InheritEnv::AllButPython);
        let explicit = StartupArgs {
            preset: Some("system".into()),
            ..StartupArgs::default()
        };
        assert_eq!(
            pack_startup(&explicit, &PY311).unwrap(),
            StartupConfig::system()
        );
    }

    #[test]
    fn settings_a_pack_cannot_honour_are_refused() {
        let argv = StartupArgs {
            argv: vec!["x".into()],
            ..StartupArgs::default()
        };
        assert!(
            pack_startup(&argv, &PY311)
                .unwrap_err()
                .message
                .contains("--argv")
        );
        let unsupported = StartupArgs {
            x: vec!["cpu_count=2".into()],
            ..StartupArgs::default()
        };
        let error = pack_startup(&unsupported, &PY311).unwrap_err();
        assert!(error.message.contains("cpu_count"), "{}", error.message);
    }
}
