//! Host patterns, as Ansible reads them: `all`, names, groups, globs (`web*`),
//! unions (`web:db` or `web,db`), intersections (`web:&prod`) and exclusions
//! (`web:!web3`). Unions are taken first, then intersections, then exclusions,
//! whatever their order in the pattern. A term that matches nothing is an error:
//! a typo must not quietly shrink the set of hosts a command runs on.

use std::collections::BTreeSet;

use crate::error::InventoryError;
use crate::model::Inventory;

impl Inventory {
    /// The hosts `pattern` selects, in inventory order.
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, InventoryError> {
        let error = |message: String| InventoryError::Pattern {
            pattern: pattern.to_string(),
            message,
        };
        let separator = if pattern.contains(',') { ',' } else { ':' };
        let mut union = BTreeSet::new();
        let mut intersections = Vec::new();
        let mut exclusions = BTreeSet::new();
        let mut any_union = false;
        for term in pattern.split(separator).map(str::trim) {
            if term.is_empty() {
                continue;
            }
            if let Some(term) = term.strip_prefix('!') {
                exclusions.extend(self.term(term).map_err(&error)?);
            } else if let Some(term) = term.strip_prefix('&') {
                intersections.push(self.term(term).map_err(&error)?);
            } else {
                any_union = true;
                union.extend(self.term(term).map_err(&error)?);
            }
        }
        if !any_union {
            return Err(error(
                "nothing to select: give at least one name, group or glob (\"all\" for every host)"
                    .into(),
            ));
        }
        let selected: Vec<String> = union
            .into_iter()
            .filter(|i| {
                intersections
                    .iter()
                    .all(|set: &BTreeSet<usize>| set.contains(i))
            })
            .filter(|i| !exclusions.contains(i))
            .map(|i| self.host_at(i).to_string())
            .collect();
        if selected.is_empty() {
            return Err(error(
                "the terms match hosts, but together they leave none".into(),
            ));
        }
        Ok(selected)
    }

    /// The hosts one term names: a group, a host, or a glob over both.
    fn term(&self, term: &str) -> Result<BTreeSet<usize>, String> {
        if term.starts_with('~') {
            return Err(format!(
                "{term:?}: regular-expression terms are not supported; use globs such as web*"
            ));
        }
        if term == "*" {
            return Ok(self.members(crate::model::ALL));
        }
        if self.has_group(term) {
            return Ok(self.members(term));
        }
        if let Some(index) = self.host_names().position(|h| h == term) {
            return Ok(BTreeSet::from([index]));
        }
        if term.contains(['*', '?', '[']) {
            let mut found = BTreeSet::new();
            for group in self.group_names() {
                if glob_match(term, group) {
                    found.extend(self.members(group));
                }
            }
            for (index, host) in self.host_names().enumerate() {
                if glob_match(term, host) {
                    found.insert(index);
                }
            }
            if found.is_empty() {
                return Err(format!("{term:?} matches no host or group"));
            }
            return Ok(found);
        }
        Err(format!(
            "{term:?} is neither a host nor a group of {source} (`pyfleet inspect -i {source} \
             all` lists them)",
            source = self.source()
        ))
    }
}

/// Shell-style glob: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`. Linear backtracking on
/// the last `*` only, so no pattern can make it slow.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if p.get(pi) == Some(&'*') {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if let Some(len) = one_char(&p[pi..], t[ti]) {
            pi += len;
            ti += 1;
            continue;
        }
        match star {
            Some((star_p, star_t)) => {
                pi = star_p + 1;
                ti = star_t + 1;
                star = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// How much of `pattern` matched the single character `c` (`None`: no match).
fn one_char(pattern: &[char], c: char) -> Option<usize> {
    match pattern.first()? {
        '?' => Some(1),
        '[' => match class(pattern, c) {
            Some((matched, len)) => matched.then_some(len),
            None => (c == '[').then_some(1), // unclosed: a literal '['
        },
        literal => (*literal == c).then_some(1),
    }
}

/// `[...]` at the start of `pattern`: whether `c` is in it, and its length.
fn class(pattern: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pattern.len() && (first || pattern[i] != ']') {
        first = false;
        if i + 2 < pattern.len() && pattern[i + 1] == '-' && pattern[i + 2] != ']' {
            matched |= pattern[i] <= c && c <= pattern[i + 2];
            i += 3;
        } else {
            matched |= pattern[i] == c;
            i += 1;
        }
    }
    (i < pattern.len()).then_some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toml_format::parse_toml;

    fn inventory() -> Inventory {
        parse_toml(
            r#"
[groups.web]
hosts = ["web[1:3]"]
[groups.db]
hosts = ["db1", "db2"]
[groups.prod]
hosts = ["web1", "db1"]
[hosts.local]
method = "local"
"#,
            "fleet.toml",
        )
        .unwrap()
    }

    #[test]
    fn names_groups_globs_unions_intersections_exclusions() {
        let inv = inventory();
        assert_eq!(inv.select("web:!web3").unwrap(), ["web1", "web2"]);
        assert_eq!(
            inv.select("web,db").unwrap(),
            ["web1", "web2", "web3", "db1", "db2"]
        );
        assert_eq!(inv.select("web:&prod").unwrap(), ["web1"]);
        assert_eq!(inv.select("!db1:db").unwrap(), ["db2"]);
        assert_eq!(inv.select("w*[12]").unwrap(), ["web1", "web2"]);
        assert_eq!(inv.select("all:!web*:!db*").unwrap(), ["local"]);
        assert_eq!(inv.select("ungrouped").unwrap(), ["local"]);
        assert_eq!(inv.select("*").unwrap().len(), 6);
    }

    #[test]
    fn patterns_that_select_nothing_are_errors() {
        let inv = inventory();
        let typo = inv.select("web:wbe2").unwrap_err().to_string();
        assert!(
            typo.contains("\"wbe2\" is neither a host nor a group"),
            "{typo}"
        );
        assert!(
            inv.select("x*")
                .unwrap_err()
                .to_string()
                .contains("matches no host")
        );
        assert!(
            inv.select("web:!web")
                .unwrap_err()
                .to_string()
                .contains("leave none")
        );
        assert!(
            inv.select("!web")
                .unwrap_err()
                .to_string()
                .contains("nothing to select")
        );
        assert!(
            inv.select("~web.*")
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match("web*", "web12"));
        assert!(glob_match("web?", "web1"));
        assert!(!glob_match("web?", "web12"));
        assert!(glob_match("db[1-2]", "db2"));
        assert!(!glob_match("db[!1]", "db1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a*b*c", "aXbYbZ"));
        assert!(glob_match("[x", "[x"));
        let long = "a".repeat(200);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*b", &long));
    }
}
