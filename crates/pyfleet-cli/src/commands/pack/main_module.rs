//! The archive's `__main__.py`: what `python APP` runs. It imports the entry
//! point and exits with its return value; with native extensions, it first makes
//! sure they are extracted and puts their directory first on sys.path.

use super::entry::EntryPoint;
use super::native::NativeSet;

const TEMPLATE: &str = include_str!("main_template.py");
const NATIVE: &str = include_str!("main_native.py");

/// The source of `__main__.py`.
pub fn main_source(entry: &EntryPoint, native: Option<&NativeSet>, sourceless: bool) -> String {
    let (first, rest) = entry
        .attribute
        .split_first()
        .expect("an entry point has a function");
    let attributes: String = rest.iter().map(|part| format!(".{part}")).collect();
    let (native_code, native_call) = match native {
        Some(native) => {
            let top: Vec<String> = native
                .top_level
                .iter()
                .map(|name| format!("{name:?}"))
                .collect();
            let code = NATIVE
                .replace("@KEY@", &native.key)
                .replace("@TOP@", &format!("[{}]", top.join(", ")))
                .replace("@SOURCELESS@", if sourceless { "True" } else { "False" });
            (code, "    _pyfleet_native_dir()\n".to_string())
        }
        None => (String::new(), String::new()),
    };
    TEMPLATE
        .replace("@ENTRY@", &entry.text())
        .replace("@MODULE@", &entry.module)
        .replace("@NAME@", first)
        .replace("@ATTRIBUTES@", &attributes)
        .replace("@NATIVE@", &native_code)
        .replace("@NATIVE_CALL@", &native_call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_entry_point() {
        let entry = EntryPoint::parse("app.cli:Main.run").unwrap();
        let source = main_source(&entry, None, false);
        assert!(
            source.contains("from app.cli import Main\n    return Main.run\n"),
            "{source}"
        );
        assert!(source.contains("sys.exit(_pyfleet_entry()())"));
        assert!(!source.contains('@'), "{source}");
        let native = NativeSet {
            top_level: vec!["markupsafe".into()],
            key: "00ff".into(),
        };
        let source = main_source(&entry, Some(&native), false);
        assert!(source.contains("_PYFLEET_NATIVE_KEY = \"00ff\""));
        assert!(source.contains("frozenset([\"markupsafe\"])"));
        assert!(source.contains("    _pyfleet_native_dir()\n    sys.exit"));
        assert!(!source.contains('@'), "{source}");
    }
}
