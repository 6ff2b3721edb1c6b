//! pyfleet's own inventory format (TOML):
//!
//! ```toml
//! [defaults]                     # settings for every host, and `vars`
//! user = "deploy"
//! python = "/usr/bin/python3"
//!
//! [groups.web]
//! hosts = ["web[1:3]"]           # Ansible-style ranges
//! become = "sudo"
//! vars = { tier = "front" }
//!
//! [groups.prod]
//! children = ["web"]
//!
//! [hosts.web1]
//! address = "10.0.0.11"
//!
//! [hosts.builder]
//! method = "local"
//! groups = ["build"]
//! ```
//!
//! Settings are listed in [`SETTINGS`](crate::settings::SETTINGS); anything
//! else belongs under `vars`.

use crate::error::InventoryError;
use crate::host_range::expand_host_range;
use crate::model::{ALL, Entry, Inventory};
use crate::settings::is_setting;
use crate::value::{Var, Vars};

/// Parse a TOML inventory; `source` names it in messages.
pub fn parse_toml(text: &str, source: &str) -> Result<Inventory, InventoryError> {
    let root: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| InventoryError::Syntax {
            inventory: source.to_string(),
            format: "TOML",
            message: e.to_string().trim_end().to_string(),
        })?;
    let mut inventory = Inventory::new(source);
    for (key, value) in &root {
        let table = as_table(&inventory, key, value)?;
        match key.as_str() {
            "defaults" => fill(
                &mut inventory,
                EntryKind::Group(ALL),
                "[defaults]",
                table,
                &[],
            )?,
            "groups" => {
                for (name, group) in table {
                    let group = as_table(&inventory, &format!("groups.{name}"), group)?;
                    fill(
                        &mut inventory,
                        EntryKind::Group(name),
                        &format!("[groups.{name}]"),
                        group,
                        &["hosts", "children"],
                    )?;
                    for host in strings(
                        &inventory,
                        &format!("groups.{name}.hosts"),
                        group.get("hosts"),
                    )? {
                        for host in expand(&inventory, &host)? {
                            inventory.add_to_group(name, &host);
                        }
                    }
                    for child in strings(
                        &inventory,
                        &format!("groups.{name}.children"),
                        group.get("children"),
                    )? {
                        inventory.add_child(name, &child)?;
                    }
                }
            }
            "hosts" => {
                for (pattern, host) in table {
                    let host = as_table(&inventory, &format!("hosts.{pattern}"), host)?;
                    for name in expand(&inventory, pattern)? {
                        fill(
                            &mut inventory,
                            EntryKind::Host(&name),
                            &format!("[hosts.{pattern}]"),
                            host,
                            &["groups"],
                        )?;
                        for group in strings(
                            &inventory,
                            &format!("hosts.{pattern}.groups"),
                            host.get("groups"),
                        )? {
                            inventory.add_to_group(&group, &name);
                        }
                    }
                }
            }
            other => {
                return Err(inventory.invalid(format!(
                    "unknown top-level key {other:?}: an inventory has [defaults], [groups.NAME] \
                     and [hosts.NAME]"
                )));
            }
        }
    }
    inventory.check_cycles()?;
    Ok(inventory)
}

enum EntryKind<'a> {
    Group(&'a str),
    Host(&'a str),
}

/// Copy a table's settings and `vars` onto a host or group; `structural` keys
/// are read by the caller.
fn fill(
    inventory: &mut Inventory,
    kind: EntryKind<'_>,
    place: &str,
    table: &toml::Table,
    structural: &[&str],
) -> Result<(), InventoryError> {
    let mut settings = Vars::new();
    let mut vars = Vars::new();
    for (key, value) in table {
        if structural.contains(&key.as_str()) {
            continue;
        }
        if key == "vars" {
            let Var::Map(map) = convert(inventory, place, key, value)? else {
                return Err(inventory.invalid(format!("{place} vars must be a table")));
            };
            vars.extend(map);
        } else if is_setting(key) {
            settings.insert(key.clone(), convert(inventory, place, key, value)?);
        } else if key == "password" || key == "become_password" {
            return Err(inventory.invalid(format!(
                "{place} {key}: passwords are not written in pyfleet inventories; use \
                 {key}_env = \"VAR\" (an environment variable) or ask_password"
            )));
        } else {
            return Err(inventory.invalid(format!(
                "{place} has an unknown setting {key:?}{}; variables for your code go under \
                 `vars` (see the settings in README's inventory section)",
                suggestion(key)
            )));
        }
    }
    let entry: &mut Entry = match kind {
        EntryKind::Group(name) => inventory.group_mut(name),
        EntryKind::Host(name) => inventory.host_mut(name),
    };
    entry.settings.extend(settings);
    entry.vars.extend(vars);
    Ok(())
}

/// ", did you mean X?" for a near miss.
fn suggestion(key: &str) -> String {
    crate::settings::SETTINGS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| edit_distance(name, key) <= 2)
        .map(|name| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

fn expand(inventory: &Inventory, name: &str) -> Result<Vec<String>, InventoryError> {
    expand_host_range(name).map_err(|message| inventory.invalid(message))
}

fn as_table<'a>(
    inventory: &Inventory,
    key: &str,
    value: &'a toml::Value,
) -> Result<&'a toml::Table, InventoryError> {
    value
        .as_table()
        .ok_or_else(|| inventory.invalid(format!("{key} must be a table")))
}

fn strings(
    inventory: &Inventory,
    key: &str,
    value: Option<&toml::Value>,
) -> Result<Vec<String>, InventoryError> {
    match value {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| inventory.invalid(format!("{key} must be a list of names")))
            })
            .collect(),
        Some(_) => Err(inventory.invalid(format!("{key} must be a list of names"))),
    }
}

fn convert(
    inventory: &Inventory,
    place: &str,
    key: &str,
    value: &toml::Value,
) -> Result<Var, InventoryError> {
    Ok(match value {
        toml::Value::String(s) => Var::Str(s.clone()),
        toml::Value::Integer(i) => Var::Int(*i),
        toml::Value::Float(f) => Var::Float(*f),
        toml::Value::Boolean(b) => Var::Bool(*b),
        toml::Value::Array(items) => Var::List(
            items
                .iter()
                .map(|item| convert(inventory, place, key, item))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => Var::Map(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), convert(inventory, place, key, v)?)))
                .collect::<Result<_, InventoryError>>()?,
        ),
        toml::Value::Datetime(_) => {
            return Err(inventory.invalid(format!(
                "{place} {key}: dates are not supported; write them as strings"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[defaults]
user = "deploy"
vars = { region = "eu" }

[groups.web]
hosts = ["web[1:2]"]
port = 2222
vars = { tier = "front" }

[groups.prod]
children = ["web"]

[hosts.web1]
address = "10.0.0.11"

[hosts.builder]
method = "local"
groups = ["build"]
"#;

    #[test]
    fn hosts_groups_ranges_settings_and_vars() {
        let inv = parse_toml(SAMPLE, "fleet.toml").unwrap();
        assert_eq!(
            inv.host_names().collect::<Vec<_>>(),
            ["web1", "web2", "builder"]
        );
        let web1 = inv.resolve("web1").unwrap();
        assert_eq!(web1.settings["address"], Var::Str("10.0.0.11".into()));
        assert_eq!(web1.settings["port"], Var::Int(2222));
        assert_eq!(web1.settings["user"], Var::Str("deploy".into()));
        assert_eq!(web1.vars["tier"], Var::Str("front".into()));
        assert_eq!(web1.vars["region"], Var::Str("eu".into()));
        assert_eq!(web1.groups, ["prod", "web"]);
        assert_eq!(inv.resolve("builder").unwrap().groups, ["build"]);
    }

    #[test]
    fn typos_and_passwords_are_refused_with_advice() {
        let typo = parse_toml("[hosts.a]\nadress = \"x\"\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("did you mean \"address\""), "{typo}");
        assert!(typo.contains("f.toml"), "{typo}");
        let secret = parse_toml("[hosts.a]\npassword = \"x\"\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(secret.contains("password_env"), "{secret}");
        let top = parse_toml("[host.a]\n", "f.toml").unwrap_err().to_string();
        assert!(top.contains("unknown top-level key \"host\""), "{top}");
        let syntax = parse_toml("[hosts.a\n", "f.toml").unwrap_err().to_string();
        assert!(syntax.contains("not a valid TOML inventory"), "{syntax}");
    }
}
