//! Start-up settings on the command line, spelled like `python`'s own options where
//! it has them (-I -E -s -S -P -B -u -O -v -q -b -W -X), long options otherwise.

use std::ffi::OsString;
use std::path::PathBuf;

use pyfleet::startup::{
    CoerceCLocale, CpuCount, FrozenModules, Gil, HashSeed, InheritEnv, Malloc, Resource,
    ResourceLimit, StartupConfig, Utf8Mode, Verify,
};

/// The start-up configuration of the interpreter a command runs.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct StartupArgs {
    /// Start from a preset: "system" (isolated, no user site, safe path, no bytecode,
    /// a minimal environment) or "default".
    #[arg(long, value_name = "NAME", help_heading = "Start-up")]
    pub preset: Option<String>,
    /// Isolated mode (-I; emulated where the interpreter lacks it).
    #[arg(short = 'I', help_heading = "Start-up")]
    pub isolated: bool,
    /// Ignore PYTHON* environment variables (-E).
    #[arg(short = 'E', help_heading = "Start-up")]
    pub ignore_environment: bool,
    /// No user site-packages (-s).
    #[arg(short = 's', help_heading = "Start-up")]
    pub no_user_site: bool,
    /// No `import site` (-S).
    #[arg(short = 'S', help_heading = "Start-up")]
    pub no_site: bool,
    /// Keep the script directory off sys.path (-P; emulated before 3.11).
    #[arg(short = 'P', help_heading = "Start-up")]
    pub safe_path: bool,
    /// Do not write .pyc files (-B).
    #[arg(short = 'B', help_heading = "Start-up")]
    pub dont_write_bytecode: bool,
    /// Unbuffered stdout and stderr (-u).
    #[arg(short = 'u', help_heading = "Start-up")]
    pub unbuffered: bool,
    /// Optimise (-O; twice for -OO).
    #[arg(short = 'O', action = clap::ArgAction::Count, help_heading = "Start-up")]
    pub optimize: u8,
    /// Verbose imports (-v; repeatable).
    #[arg(short = 'v', action = clap::ArgAction::Count, help_heading = "Start-up")]
    pub verbose: u8,
    /// Quiet (-q).
    #[arg(short = 'q', help_heading = "Start-up")]
    pub quiet: bool,
    /// Bytes warnings (-b; twice for -bb).
    #[arg(short = 'b', action = clap::ArgAction::Count, help_heading = "Start-up")]
    pub bytes_warning: u8,
    /// A warning filter (-W; repeatable).
    #[arg(short = 'W', value_name = "FILTER", help_heading = "Start-up")]
    pub warn: Vec<String>,
    /// An -X option: dev, utf8[=0], faulthandler, tracemalloc[=N], importtime,
    /// pycache_prefix=PATH, warn_default_encoding, no_debug_ranges,
    /// frozen_modules=on|off, int_max_str_digits=N, perf, cpu_count=N|default, gil=0|1.
    #[arg(short = 'X', value_name = "OPTION", help_heading = "Start-up")]
    pub x: Vec<String>,
    /// PYTHONHASHSEED: "random" or 0 to 4294967295.
    #[arg(long, value_name = "SEED", help_heading = "Start-up")]
    pub hash_seed: Option<String>,
    /// PYTHONIOENCODING: ENCODING[:ERRORS].
    #[arg(long, value_name = "ENCODING[:ERRORS]", help_heading = "Start-up")]
    pub io_encoding: Option<String>,
    /// A PYTHONPATH entry (repeatable).
    #[arg(long = "pythonpath", value_name = "DIR", help_heading = "Start-up")]
    pub python_path: Vec<PathBuf>,
    /// PYTHONHOME.
    #[arg(long, value_name = "DIR", help_heading = "Start-up")]
    pub home: Option<PathBuf>,
    /// PYTHONPLATLIBDIR.
    #[arg(long, value_name = "NAME", help_heading = "Start-up")]
    pub platlibdir: Option<String>,
    /// PYTHONMALLOC: default, debug, malloc, malloc_debug, pymalloc, pymalloc_debug,
    /// mimalloc, mimalloc_debug.
    #[arg(long, value_name = "ALLOCATOR", help_heading = "Start-up")]
    pub malloc: Option<String>,
    /// PYTHONCOERCECLOCALE: 0, 1 or warn.
    #[arg(long, value_name = "0|1|warn", help_heading = "Start-up")]
    pub coerce_c_locale: Option<String>,
    /// Replace sys.path with these entries (repeatable).
    #[arg(long = "sys-path", value_name = "ENTRY", help_heading = "Start-up")]
    pub sys_path: Vec<String>,
    /// Replace sys.argv (repeatable; the first is argv[0]).
    #[arg(long = "argv", value_name = "ARG", help_heading = "Start-up")]
    pub argv: Vec<String>,
    /// Working directory of the interpreter.
    #[arg(long, value_name = "DIR", help_heading = "Start-up")]
    pub cwd: Option<PathBuf>,
    /// Umask, in octal.
    #[arg(long, value_name = "OCTAL", help_heading = "Start-up")]
    pub umask: Option<String>,
    /// Set an environment variable (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", help_heading = "Start-up")]
    pub env: Vec<String>,
    /// Remove an environment variable (repeatable).
    #[arg(long = "unset-env", value_name = "NAME", help_heading = "Start-up")]
    pub unset_env: Vec<String>,
    /// Keep only these variables of this process's environment (repeatable).
    #[arg(long = "keep-env", value_name = "NAME", help_heading = "Start-up")]
    pub keep_env: Vec<String>,
    /// Pass this process's PYTHON* variables on (they are dropped by default).
    #[arg(long, help_heading = "Start-up")]
    pub inherit_python_env: bool,
    /// A resource limit: NAME=SOFT[:HARD], NAME one of as, core, cpu, data, fsize,
    /// nofile, nproc, stack; a limit is a number, "unlimited" or "keep".
    #[arg(
        long = "rlimit",
        value_name = "NAME=SOFT[:HARD]",
        help_heading = "Start-up"
    )]
    pub rlimit: Vec<String>,
    /// Compare the child's report with the settings: strict (default), warn, off.
    #[arg(long, value_name = "MODE", help_heading = "Start-up")]
    pub verify: Option<String>,
}

impl StartupArgs {
    /// The configuration these options describe, or what is wrong with them.
    pub fn config(&self) -> Result<StartupConfig, String> {
        let mut c = match self.preset.as_deref() {
            None | Some("default") => StartupConfig::default(),
            Some("system") => StartupConfig::system(),
            Some(other) => return Err(format!("unknown preset {other:?}: use system or default")),
        };
        c.isolated |= self.isolated;
        c.ignore_environment |= self.ignore_environment;
        c.no_user_site |= self.no_user_site;
        c.no_site |= self.no_site;
        c.safe_path |= self.safe_path;
        c.dont_write_bytecode |= self.dont_write_bytecode;
        c.unbuffered |= self.unbuffered;
        c.optimize = c.optimize.max(self.optimize);
        c.verbose = c.verbose.max(self.verbose);
        c.quiet |= self.quiet;
        c.bytes_warning = c.bytes_warning.max(self.bytes_warning);
        c.warn_options.extend(self.warn.iter().cloned());
        for option in &self.x {
            apply_x_option(&mut c, option)?;
        }
        if let Some(seed) = &self.hash_seed {
            c.hash_seed = Some(match seed.as_str() {
                "random" => HashSeed::Random,
                n => HashSeed::Fixed(n.parse().map_err(|_| {
                    format!(
                        "--hash-seed {n:?}: must be \"random\" or an integer from 0 to 4294967295"
                    )
                })?),
            });
        }
        if let Some(io) = &self.io_encoding {
            let (encoding, errors) = match io.split_once(':') {
                Some((e, r)) => (e, Some(r)),
                None => (io.as_str(), None),
            };
            c.io_encoding = (!encoding.is_empty()).then(|| encoding.to_string());
            c.io_errors = errors.map(str::to_string);
        }
        c.python_path.extend(self.python_path.iter().cloned());
        c.home = self.home.clone().or(c.home);
        c.platlibdir = self.platlibdir.clone().or(c.platlibdir);
        if let Some(malloc) = &self.malloc {
            c.malloc = Some(parse_malloc(malloc)?);
        }
        if let Some(coerce) = &self.coerce_c_locale {
            c.coerce_c_locale = Some(match coerce.as_str() {
                "0" => CoerceCLocale::Off,
                "1" => CoerceCLocale::On,
                "warn" => CoerceCLocale::Warn,
                other => return Err(format!("--coerce-c-locale {other:?}: use 0, 1 or warn")),
            });
        }
        if !self.sys_path.is_empty() {
            c.sys_path = Some(self.sys_path.clone());
        }
        if !self.argv.is_empty() {
            c.argv = Some(self.argv.clone());
        }
        c.cwd = self.cwd.clone().or(c.cwd);
        if let Some(umask) = &self.umask {
            c.umask = Some(
                u32::from_str_radix(umask.trim_start_matches("0o"), 8)
                    .map_err(|_| format!("--umask {umask:?}: must be octal, e.g. 022"))?,
            );
        }
        for pair in &self.env {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("--env {pair:?}: expected NAME=VALUE"))?;
            c.env_set
                .push((OsString::from(name), OsString::from(value)));
        }
        c.env_unset
            .extend(self.unset_env.iter().map(OsString::from));
        if self.inherit_python_env {
            c.inherit_env = InheritEnv::All;
        }
        if !self.keep_env.is_empty() {
            c.inherit_env = InheritEnv::Only(self.keep_env.clone());
        }
        for limit in &self.rlimit {
            c.rlimits.push(parse_rlimit(limit)?);
        }
        if let Some(verify) = &self.verify {
            c.verify = match verify.as_str() {
                "strict" => Verify::Strict,
                "warn" => Verify::Warn,
                "off" => Verify::Off,
                other => return Err(format!("--verify {other:?}: use strict, warn or off")),
            };
        }
        Ok(c)
    }
}

/// One `-X` option onto its typed field; an unknown one is an error here, since
/// CPython would silently ignore it.
fn apply_x_option(c: &mut StartupConfig, option: &str) -> Result<(), String> {
    let (name, value) = match option.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (option, None),
    };
    let number = |v: Option<&str>| -> Result<u32, String> {
        v.ok_or_else(|| format!("-X {name} needs a value"))?
            .parse()
            .map_err(|_| format!("-X {option}: not a number"))
    };
    let flag = |v: Option<&str>| -> Result<bool, String> {
        match v {
            None | Some("1") | Some("on") => Ok(true),
            Some(_) => Err(format!(
                "-X {option}: an off value would turn it on in CPython; leave the option out instead"
            )),
        }
    };
    match name {
        "dev" => c.dev_mode = flag(value)?,
        "utf8" => {
            c.utf8_mode = Some(match value {
                None | Some("1") => Utf8Mode::On,
                Some("0") => Utf8Mode::Off,
                Some(v) => return Err(format!("-X utf8={v}: use -X utf8 or -X utf8=0")),
            })
        }
        "faulthandler" => c.faulthandler = flag(value)?,
        "tracemalloc" => c.tracemalloc = Some(if value.is_some() { number(value)? } else { 1 }),
        "importtime" => c.importtime = flag(value)?,
        "pycache_prefix" => {
            c.pycache_prefix = Some(PathBuf::from(value.ok_or("-X pycache_prefix needs =PATH")?))
        }
        "warn_default_encoding" => c.warn_default_encoding = flag(value)?,
        "no_debug_ranges" => c.no_debug_ranges = flag(value)?,
        "frozen_modules" => {
            c.frozen_modules = Some(match value {
                Some("on") => FrozenModules::On,
                Some("off") => FrozenModules::Off,
                _ => return Err("-X frozen_modules needs =on or =off".into()),
            })
        }
        "int_max_str_digits" => c.int_max_str_digits = Some(number(value)?),
        "perf" => c.perf = flag(value)?,
        "cpu_count" => {
            c.cpu_count = Some(match value {
                Some("default") => CpuCount::Default,
                _ => CpuCount::Fixed(number(value)?),
            })
        }
        "gil" => {
            c.gil = Some(match value {
                Some("1") => Gil::Enabled,
                Some("0") => Gil::Disabled,
                _ => return Err("-X gil needs =0 or =1".into()),
            })
        }
        other => {
            return Err(format!(
                "unknown -X option {other:?} (CPython would ignore it silently); known: dev, utf8, faulthandler, \
                 tracemalloc, importtime, pycache_prefix, warn_default_encoding, no_debug_ranges, frozen_modules, \
                 int_max_str_digits, perf, cpu_count, gil"
            ));
        }
    }
    Ok(())
}

fn parse_malloc(text: &str) -> Result<Malloc, String> {
    Ok(match text {
        "default" => Malloc::Default,
        "debug" => Malloc::Debug,
        "malloc" => Malloc::Malloc,
        "malloc_debug" => Malloc::MallocDebug,
        "pymalloc" => Malloc::Pymalloc,
        "pymalloc_debug" => Malloc::PymallocDebug,
        "mimalloc" => Malloc::Mimalloc,
        "mimalloc_debug" => Malloc::MimallocDebug,
        other => return Err(format!("--malloc {other:?}: unknown allocator")),
    })
}

fn parse_rlimit(text: &str) -> Result<(Resource, ResourceLimit), String> {
    let (name, limits) = text
        .split_once('=')
        .ok_or_else(|| format!("--rlimit {text:?}: expected NAME=SOFT[:HARD]"))?;
    let resource = match name.to_ascii_lowercase().as_str() {
        "as" => Resource::AddressSpace,
        "core" => Resource::Core,
        "cpu" => Resource::Cpu,
        "data" => Resource::Data,
        "fsize" => Resource::FileSize,
        "nofile" => Resource::OpenFiles,
        "nproc" => Resource::Processes,
        "stack" => Resource::Stack,
        other => return Err(format!("--rlimit: unknown resource {other:?}")),
    };
    let value = |v: &str| -> Result<Option<u64>, String> {
        match v {
            "keep" => Ok(None),
            "unlimited" => Ok(Some(ResourceLimit::UNLIMITED)),
            n => n
                .parse()
                .map(Some)
                .map_err(|_| format!("--rlimit {text:?}: {n:?} is not a number")),
        }
    };
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (value(s)?, value(h)?),
        None => (value(limits)?, None),
    };
    Ok((resource, ResourceLimit { soft, hard }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<StartupConfig, String> {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            startup: StartupArgs,
        }
        let wrapper = <Wrapper as clap::Parser>::try_parse_from(
            std::iter::once("x").chain(args.iter().copied()),
        )
        .map_err(|e| e.to_string())?;
        wrapper.startup.config()
    }

    #[test]
    fn python_style_flags() {
        let c = parse(&[
            "-I", "-B", "-OO", "-vv", "-W", "error", "-X", "dev", "-X", "utf8=0",
        ])
        .unwrap();
        assert!(c.isolated && c.dont_write_bytecode && c.dev_mode);
        assert_eq!((c.optimize, c.verbose), (2, 2));
        assert_eq!(c.warn_options, ["error"]);
        assert_eq!(c.utf8_mode, Some(Utf8Mode::Off));
    }

    #[test]
    fn long_options() {
        let c = parse(&[
            "--hash-seed",
            "7",
            "--io-encoding",
            "latin-1:replace",
            "--env",
            "A=1",
            "--rlimit",
            "nofile=100:keep",
            "--umask",
            "027",
            "--preset",
            "system",
        ])
        .unwrap();
        assert_eq!(c.hash_seed, Some(HashSeed::Fixed(7)));
        assert_eq!(
            (c.io_encoding.as_deref(), c.io_errors.as_deref()),
            (Some("latin-1"), Some("replace"))
        );
        assert_eq!(
            c.rlimits,
            vec![(
                Resource::OpenFiles,
                ResourceLimit {
                    soft: Some(100),
                    hard: None
                }
            )]
        );
        assert_eq!(c.umask, Some(0o027));
        assert!(c.isolated, "the preset is the base");
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            parse(&["-X", "bogus"])
                .unwrap_err()
                .contains("unknown -X option \"bogus\"")
        );
        assert!(
            parse(&["-X", "dev=0"])
                .unwrap_err()
                .contains("off value would turn it on")
        );
        assert!(
            parse(&["--hash-seed", "abc"])
                .unwrap_err()
                .contains("4294967295")
        );
        assert!(
            parse(&["--preset", "fast"])
                .unwrap_err()
                .contains("unknown preset")
        );
        assert!(
            parse(&["--rlimit", "files=1"])
                .unwrap_err()
                .contains("unknown resource")
        );
    }
}
