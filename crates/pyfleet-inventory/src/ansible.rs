//! Ansible inventories, INI and YAML, read into the same model as pyfleet's own
//! format: `ansible_*` connection variables become settings, the rest variables.

use crate::error::InventoryError;
use crate::host_range::expand_host_range;
use crate::model::{ALL, Entry, Inventory};
use crate::settings::from_ansible;
use crate::value::Var;

/// Store an Ansible variable on a host or group: a setting if Ansible means a
/// connection option by it, else a variable.
fn assign(entry: &mut Entry, key: &str, value: Var) {
    match from_ansible(key) {
        Some(setting) => {
            entry.settings.insert(setting.to_string(), value);
        }
        None => {
            entry.vars.insert(key.to_string(), value);
        }
    }
}

/// Parse an Ansible INI inventory; `source` names it in messages.
pub fn parse_ini(text: &str, source: &str) -> Result<Inventory, InventoryError> {
    let mut inventory = Inventory::new(source);
    let syntax = |line: usize, message: String| InventoryError::Syntax {
        inventory: source.to_string(),
        format: "Ansible INI",
        message: format!("line {line}: {message}"),
    };
    enum Section {
        Hosts(String),
        Vars(String),
        Children(String),
    }
    let mut section = Section::Hosts(String::new());
    for (number, raw) in text.lines().enumerate() {
        let number = number + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let header = header
                .split_once(']')
                .map(|(h, _)| h.trim())
                .ok_or_else(|| syntax(number, format!("{line:?} has '[' without ']'")))?;
            section = match header.split_once(':') {
                None => Section::Hosts(header.to_string()),
                Some((group, "vars")) => Section::Vars(group.to_string()),
                Some((group, "children")) => Section::Children(group.to_string()),
                Some((_, other)) => {
                    return Err(syntax(
                        number,
                        format!(
                            "unknown section kind {other:?}: use [GROUP], [GROUP:vars] or [GROUP:children]"
                        ),
                    ));
                }
            };
            let name = match &section {
                Section::Hosts(g) | Section::Vars(g) | Section::Children(g) => g,
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(syntax(number, format!("{name:?} is not a group name")));
            }
            inventory.group_mut(name);
            continue;
        }
        match &section {
            Section::Hosts(group) => {
                let words = shell_words(line).map_err(|m| syntax(number, m))?;
                let (first, assignments) =
                    words.split_first().expect("a non-empty line has a word");
                let (pattern, port) = split_port(first);
                let names = expand_host_range(pattern).map_err(|m| syntax(number, m))?;
                let mut pairs = Vec::new();
                for word in assignments {
                    let (key, value) = word.split_once('=').ok_or_else(|| {
                        syntax(
                            number,
                            format!("{word:?} after the host name is not KEY=VALUE"),
                        )
                    })?;
                    pairs.push((key.to_string(), inline_value(value)));
                }
                for name in names {
                    if group.is_empty() {
                        inventory.host_mut(&name);
                    } else {
                        inventory.add_to_group(group, &name);
                    }
                    let entry = inventory.host_mut(&name);
                    if let Some(port) = port {
                        entry
                            .settings
                            .insert("port".into(), Var::Str(port.to_string()));
                    }
                    for (key, value) in &pairs {
                        assign(entry, key, value.clone());
                    }
                }
            }
            Section::Vars(group) => {
                let (key, value) = line.split_once('=').ok_or_else(|| {
                    syntax(
                        number,
                        format!("{line:?} in [{group}:vars] is not KEY=VALUE"),
                    )
                })?;
                let value = unquote(value.trim()).to_string();
                let entry = inventory.group_mut(group);
                assign(entry, key.trim(), Var::Str(value));
            }
            Section::Children(group) => {
                let group = group.clone();
                inventory.add_child(&group, line)?;
            }
        }
    }
    inventory.check_cycles()?;
    Ok(inventory)
}

/// `host:2222` → (`host`, Some("2222")); colons inside a range (`web[1:3]:22`)
/// do not count, and a name with other colons (IPv6) is left alone.
fn split_port(word: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    let outside: Vec<usize> = word
        .char_indices()
        .filter_map(|(i, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                ':' if depth == 0 => return Some(i),
                _ => {}
            }
            None
        })
        .collect();
    match outside.as_slice() {
        [i] => {
            let port = &word[i + 1..];
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                (&word[..*i], Some(port))
            } else {
                (word, None)
            }
        }
        _ => (word, None),
    }
}

fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

/// A value on a host line: Ansible reads these as Python literals, so numbers and
/// True/False are typed; everything else is text.
fn inline_value(text: &str) -> Var {
    if let Ok(i) = text.parse::<i64>() {
        return Var::Int(i);
    }
    match text {
        "True" | "true" => Var::Bool(true),
        "False" | "false" => Var::Bool(false),
        _ => Var::Str(text.to_string()),
    }
}

/// Split a line into words the way a POSIX shell would (quotes, backslashes).
pub(crate) fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("unclosed ' in {line:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(format!("unclosed \" in {line:?}")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(format!("unclosed \" in {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Parse an Ansible YAML inventory; `source` names it in messages.
pub fn parse_yaml(text: &str, source: &str) -> Result<Inventory, InventoryError> {
    use yaml_rust2::{Yaml, YamlLoader};
    let syntax = |message: String| InventoryError::Syntax {
        inventory: source.to_string(),
        format: "Ansible YAML",
        message,
    };
    let documents = YamlLoader::load_from_str(text).map_err(|e| syntax(e.to_string()))?;
    let mut inventory = Inventory::new(source);
    let Some(root) = documents.first() else {
        return Ok(inventory);
    };
    let Yaml::Hash(groups) = root else {
        return Err(syntax(
            "the top level must map group names (usually `all`) to groups".into(),
        ));
    };
    fn key_text(key: &Yaml) -> Option<String> {
        match key {
            Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
            Yaml::Integer(i) => Some(i.to_string()),
            _ => None,
        }
    }
    fn convert(value: &Yaml) -> Option<Var> {
        Some(match value {
            Yaml::String(s) => Var::Str(s.clone()),
            Yaml::Integer(i) => Var::Int(*i),
            Yaml::Real(r) => r
                .parse()
                .map(Var::Float)
                .unwrap_or_else(|_| Var::Str(r.clone())),
            Yaml::Boolean(b) => Var::Bool(*b),
            Yaml::Array(items) => Var::List(items.iter().filter_map(convert).collect()),
            Yaml::Hash(map) => Var::Map(
                map.iter()
                    .filter_map(|(k, v)| Some((key_text(k)?, convert(v)?)))
                    .collect(),
            ),
            Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => return None,
        })
    }
    fn assign_all(
        inventory: &Inventory,
        entry: &mut Entry,
        place: &str,
        vars: &Yaml,
    ) -> Result<(), InventoryError> {
        match vars {
            Yaml::Null => Ok(()),
            Yaml::Hash(map) => {
                for (key, value) in map {
                    let key = key_text(key).ok_or_else(|| {
                        inventory.invalid(format!("{place}: a variable name must be text"))
                    })?;
                    if let Some(value) = convert(value) {
                        assign(entry, &key, value);
                    }
                }
                Ok(())
            }
            _ => Err(inventory.invalid(format!("{place} must map names to values"))),
        }
    }
    fn group(
        inventory: &mut Inventory,
        name: &str,
        body: &Yaml,
        depth: usize,
    ) -> Result<(), InventoryError> {
        if depth > 64 {
            return Err(inventory.invalid(format!("group {name}: children nest more than 64 deep")));
        }
        inventory.group_mut(name);
        let map = match body {
            Yaml::Null => return Ok(()),
            Yaml::Hash(map) => map,
            _ => {
                return Err(inventory.invalid(format!(
                    "group {name} must be a mapping with hosts, vars and children"
                )));
            }
        };
        for (key, value) in map {
            let key = key_text(key).unwrap_or_default();
            match key.as_str() {
                "hosts" => match value {
                    Yaml::Null => {}
                    Yaml::Hash(hosts) => {
                        for (host, vars) in hosts {
                            let host = key_text(host).ok_or_else(|| {
                                inventory.invalid(format!("group {name}: a host name must be text"))
                            })?;
                            let names =
                                expand_host_range(&host).map_err(|m| inventory.invalid(m))?;
                            for host_name in names {
                                if name == ALL {
                                    inventory.host_mut(&host_name);
                                } else {
                                    inventory.add_to_group(name, &host_name);
                                }
                                let mut entry = std::mem::take(inventory.host_mut(&host_name));
                                let result = assign_all(
                                    inventory,
                                    &mut entry,
                                    &format!("host {host_name}"),
                                    vars,
                                );
                                *inventory.host_mut(&host_name) = entry;
                                result?;
                            }
                        }
                    }
                    _ => {
                        return Err(inventory.invalid(format!(
                            "group {name}: hosts must map host names to their variables"
                        )));
                    }
                },
                "vars" => {
                    let mut entry = std::mem::take(inventory.group_mut(name));
                    let result =
                        assign_all(inventory, &mut entry, &format!("group {name} vars"), value);
                    *inventory.group_mut(name) = entry;
                    result?;
                }
                "children" => match value {
                    Yaml::Null => {}
                    Yaml::Hash(children) => {
                        for (child, body) in children {
                            let child = key_text(child).ok_or_else(|| {
                                inventory.invalid(format!(
                                    "group {name}: a child group name must be text"
                                ))
                            })?;
                            if name != ALL {
                                inventory.add_child(name, &child)?;
                            }
                            group(inventory, &child, body, depth + 1)?;
                        }
                    }
                    _ => {
                        return Err(inventory.invalid(format!(
                            "group {name}: children must map group names to groups"
                        )));
                    }
                },
                other => {
                    return Err(inventory.invalid(format!(
                        "group {name}: unknown key {other:?} (a group has hosts, vars and children)"
                    )));
                }
            }
        }
        Ok(())
    }
    for (name, body) in groups {
        let name = key_text(name).ok_or_else(|| syntax("a group name must be text".into()))?;
        group(&mut inventory, &name, body, 0)?;
    }
    inventory.check_cycles()?;
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_follow_posix_quoting() {
        assert_eq!(
            shell_words(r#"web1 a=1 b="two words" c='x y' d=e\ f # comment"#).unwrap(),
            ["web1", "a=1", "b=two words", "c=x y", "d=e f"]
        );
        assert!(shell_words("a 'b").unwrap_err().contains("unclosed"));
    }

    #[test]
    fn ini_sections_ports_ranges_and_literals() {
        let inv = parse_ini(
            "lone ansible_host=10.0.0.9\n\
             [web]\n\
             web[1:2]:2222 ansible_user=deploy weight=3\n\
             [web:vars]\n\
             ansible_become=true\n\
             tier = \"front\"\n\
             [prod:children]\n\
             web\n",
            "hosts.ini",
        )
        .unwrap();
        assert_eq!(
            inv.host_names().collect::<Vec<_>>(),
            ["lone", "web1", "web2"]
        );
        let web2 = inv.resolve("web2").unwrap();
        assert_eq!(web2.settings["port"], Var::Str("2222".into()));
        assert_eq!(web2.settings["user"], Var::Str("deploy".into()));
        assert_eq!(web2.settings["become"], Var::Str("true".into()));
        assert_eq!(web2.vars["weight"], Var::Int(3));
        assert_eq!(web2.vars["tier"], Var::Str("front".into()));
        assert_eq!(web2.groups, ["prod", "web"]);
        assert_eq!(inv.resolve("lone").unwrap().groups, ["ungrouped"]);
    }

    #[test]
    fn ini_errors_name_the_line() {
        let error = parse_ini("[web]\nweb1 novalue\n", "h.ini")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("KEY=VALUE"),
            "{error}"
        );
        let error = parse_ini("[web:bogus]\n", "h.ini").unwrap_err().to_string();
        assert!(error.contains("unknown section kind"), "{error}");
    }

    #[test]
    fn yaml_groups_children_and_vars() {
        let inv = parse_yaml(
            "all:\n  vars:\n    ansible_user: deploy\n  hosts:\n    lone:\n  children:\n    prod:\n      children:\n        web:\n          hosts:\n            web[1:2]:\n              ansible_port: 2222\n          vars:\n            tier: front\n",
            "hosts.yml",
        )
        .unwrap();
        assert_eq!(
            inv.host_names().collect::<Vec<_>>(),
            ["lone", "web1", "web2"]
        );
        let web1 = inv.resolve("web1").unwrap();
        assert_eq!(web1.settings["port"], Var::Int(2222));
        assert_eq!(web1.settings["user"], Var::Str("deploy".into()));
        assert_eq!(web1.vars["tier"], Var::Str("front".into()));
        assert_eq!(web1.groups, ["prod", "web"]);
        let error = parse_yaml("all:\n  host: {}\n", "h.yml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown key \"host\""), "{error}");
    }
}
