//! The compressed core built by build.rs from python/pyfleet_core.

/// One module of the shipped core, as built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreModule {
    /// Module name inside the `pyfleet_core` package.
    pub name: &'static str,
    /// The file name tracebacks show for it.
    pub filename: &'static str,
    /// Bytes of the readable source in python/pyfleet_core.
    pub source_len: usize,
    /// Bytes after minification.
    pub minified_len: usize,
    /// Per minified line, the gap to its original line (varints), for tracebacks.
    pub line_map: &'static [u8],
    /// For a module not in the bootstrap payload: its zlib-compressed minified
    /// source, sent when a child asks for it.
    pub on_demand: Option<&'static [u8]>,
}

static PAYLOAD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/core_payload.zlib"));
static MODULES: &[CoreModule] = include!(concat!(env!("OUT_DIR"), "/core_modules.rs"));
const TABLE_LEN: usize = include!(concat!(env!("OUT_DIR"), "/core_table_len.rs"));

/// The bytes written to a child's stdin after the loader: a zlib-compressed marshal
/// table of `(name, filename, minified source, line map)` rows, `boot` first.
pub fn core_payload() -> &'static [u8] {
    PAYLOAD
}

/// Every module of the core, `boot` first; those with `on_demand` set are not in
/// [`core_payload`].
pub fn core_modules() -> &'static [CoreModule] {
    MODULES
}

/// The on-demand module `name`, if there is one.
pub fn on_demand_module(name: &str) -> Option<&'static CoreModule> {
    MODULES
        .iter()
        .find(|m| m.name == name && m.on_demand.is_some())
}

/// Size of the payload once decompressed.
pub fn core_table_len() -> usize {
    TABLE_LEN
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{Nonce, loader_source};

    #[test]
    fn everything_sent_to_bootstrap_a_child_fits_8_kib() {
        let loader = loader_source(&Nonce::random(), core_payload().len());
        // A long interpreter path and a few flags, as a method would send them.
        let argv = [
            "/usr/local/lib/pyenv/versions/3.13.0/bin/python3.13",
            "-I",
            "-S",
            "-c",
            &loader,
        ];
        let argv_len: usize = argv.iter().map(|a| a.len() + 1).sum();
        assert!(argv_len < 1024, "argv is {argv_len} bytes");
        let total = argv_len + core_payload().len();
        assert!(total <= 8192, "bootstrap sends {total} bytes");
    }

    #[test]
    fn the_table_lists_boot_first_and_every_module_once() {
        let names: Vec<&str> = core_modules().iter().map(|m| m.name).collect();
        assert_eq!(names.first(), Some(&"boot"));
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for module in core_modules() {
            assert!(
                module.minified_len < module.source_len,
                "{} did not shrink",
                module.name
            );
            assert_eq!(module.filename, format!("pyfleet_core/{}.py", module.name));
        }
        assert!(core_table_len() > core_payload().len());
    }
}
