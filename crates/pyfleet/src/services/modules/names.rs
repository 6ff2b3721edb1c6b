//! Which module names a child may ask for.

use super::ModuleError;

/// Longest module name accepted.
const MAX_NAME_LEN: usize = 512;

/// Check `name` is a dotted sequence of Python identifiers (ASCII), so it can only
/// ever map to files below a root: no separators, no `..`, nothing empty.
pub fn validate(name: &str) -> Result<(), ModuleError> {
    let invalid = |why: &str| ModuleError::InvalidName {
        name: name.chars().take(100).collect(),
        reason: why.to_string(),
    };
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(invalid("must be 1 to 512 characters"));
    }
    for part in name.split('.') {
        let mut chars = part.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid("each dotted part must be a Python identifier"));
        }
    }
    if name == "__main__" || name.starts_with("__main__.") {
        return Err(ModuleError::Main);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_pass_and_paths_do_not() {
        for ok in ["a", "pkg.sub_mod", "_private.x2"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            "a..b",
            "../etc/passwd",
            "a/b",
            "a.b/",
            "1abc",
            "a.-b",
            "caf\u{e9}",
            ".hidden",
            "a.",
        ] {
            assert!(
                matches!(validate(bad), Err(ModuleError::InvalidName { .. })),
                "{bad}"
            );
        }
        assert!(matches!(validate("__main__"), Err(ModuleError::Main)));
    }
}
