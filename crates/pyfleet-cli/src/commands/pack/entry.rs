//! The entry point, `MODULE:FUNCTION`: read and checked for shape here; the
//! target interpreter checks that the module binds the name (see build_helper.py).

use super::PackError;

/// A parsed entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// Dotted module name.
    pub module: String,
    /// The attribute path inside it: `main`, or `Cli.main`.
    pub attribute: Vec<String>,
}

impl EntryPoint {
    /// Reads `MODULE:FUNCTION`.
    pub fn parse(text: &str) -> Result<EntryPoint, PackError> {
        let bad = |why: &str| {
            PackError::usage(format!(
                "--entry {text:?}: {why}; expected MODULE:FUNCTION, e.g. myapp.cli:main"
            ))
        };
        let (module, attribute) = text.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let module_parts: Vec<&str> = module.split('.').collect();
        let attribute: Vec<String> = attribute.split('.').map(str::to_string).collect();
        if !module_parts.iter().all(|part| is_identifier(part)) {
            return Err(bad("the module is not a dotted Python name"));
        }
        if !attribute.iter().all(|part| is_identifier(part)) {
            return Err(bad("the function is not a (dotted) Python name"));
        }
        Ok(EntryPoint {
            module: module.to_string(),
            attribute,
        })
    }

    /// `MODULE:FUNCTION` again.
    pub fn text(&self) -> String {
        format!("{}:{}", self.module, self.attribute.join("."))
    }
}

/// An ASCII Python identifier (what a generated `__main__` can name safely).
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_parse() {
        let entry = EntryPoint::parse("app.cli:Main.run").unwrap();
        assert_eq!(entry.module, "app.cli");
        assert_eq!(entry.attribute, ["Main", "run"]);
        assert_eq!(entry.text(), "app.cli:Main.run");
        for bad in [
            "app",
            "app:",
            ":main",
            "app-x:main",
            "app:ma in",
            "1app:main",
            "app..x:main",
        ] {
            let error = EntryPoint::parse(bad).unwrap_err();
            assert!(
                error.message.contains("MODULE:FUNCTION"),
                "{bad}: {}",
                error.message
            );
        }
    }
}
