//! The inventory itself: hosts, groups (with children), and the settings and
//! variables attached to each, whichever file format they came from.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::error::InventoryError;
use crate::value::Vars;

/// The group every host belongs to.
pub const ALL: &str = "all";
/// The group of hosts that belong to no other group.
pub const UNGROUPED: &str = "ungrouped";

/// Hosts and groups, in the order the file defines them.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    source: String,
    hosts: Vec<Entry>,
    index: HashMap<String, usize>,
    groups: BTreeMap<String, Group>,
}

/// Settings (connection options, in pyfleet's names) and variables (everything
/// else, for the code that runs) of one host or group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// The host's or group's name.
    pub name: String,
    /// Connection settings: method, address, user, port, become, python …
    pub settings: Vars,
    /// Other variables.
    pub vars: Vars,
}

#[derive(Debug, Clone, Default)]
struct Group {
    entry: Entry,
    hosts: Vec<String>,
    children: Vec<String>,
}

/// A host with the settings and variables of its groups and its own merged, in
/// the order Ansible merges them: `all`, then its groups from the outermost to
/// the innermost (by name among equals), then the host itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedHost {
    /// The host's name in the inventory.
    pub name: String,
    /// Every group the host belongs to, directly or through a child group.
    pub groups: Vec<String>,
    /// Merged connection settings.
    pub settings: Vars,
    /// Merged variables.
    pub vars: Vars,
}

impl Inventory {
    /// An empty inventory; `source` names it in messages (usually its path).
    pub fn new(source: impl Into<String>) -> Inventory {
        Inventory {
            source: source.into(),
            ..Inventory::default()
        }
    }

    /// Where the inventory came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Host names in definition order.
    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(|h| h.name.as_str())
    }

    /// Group names, `all` and `ungrouped` included, sorted.
    pub fn group_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        for implicit in [ALL, UNGROUPED] {
            if !self.groups.contains_key(implicit) {
                names.push(implicit);
            }
        }
        names.sort_unstable();
        names
    }

    /// Whether `name` is a host.
    pub fn has_host(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Whether `name` is a group (`all` and `ungrouped` always are).
    pub fn has_group(&self, name: &str) -> bool {
        name == ALL || name == UNGROUPED || self.groups.contains_key(name)
    }

    /// The host, created (empty, last in order) if new.
    pub(crate) fn host_mut(&mut self, name: &str) -> &mut Entry {
        let next = self.hosts.len();
        let index = *self.index.entry(name.to_string()).or_insert(next);
        if index == next {
            self.hosts.push(Entry {
                name: name.to_string(),
                ..Entry::default()
            });
        }
        &mut self.hosts[index]
    }

    /// The group, created if new.
    pub(crate) fn group_mut(&mut self, name: &str) -> &mut Entry {
        &mut self.group_entry(name).entry
    }

    fn group_entry(&mut self, name: &str) -> &mut Group {
        self.groups
            .entry(name.to_string())
            .or_insert_with(|| Group {
                entry: Entry {
                    name: name.to_string(),
                    ..Entry::default()
                },
                ..Group::default()
            })
    }

    /// Put `host` (created if new) in `group` (created if new).
    pub(crate) fn add_to_group(&mut self, group: &str, host: &str) {
        self.host_mut(host);
        let members = &mut self.group_entry(group).hosts;
        if !members.iter().any(|h| h == host) {
            members.push(host.to_string());
        }
    }

    /// Make `child` (created if new) a child group of `parent`.
    pub(crate) fn add_child(&mut self, parent: &str, child: &str) -> Result<(), InventoryError> {
        if child == ALL {
            return Err(self.invalid(format!("group {parent:?} cannot contain `all`")));
        }
        self.group_entry(child);
        let children = &mut self.group_entry(parent).children;
        if !children.iter().any(|c| c == child) {
            children.push(child.to_string());
        }
        Ok(())
    }

    /// An error about this inventory's content.
    pub(crate) fn invalid(&self, message: String) -> InventoryError {
        InventoryError::Invalid {
            inventory: self.source.clone(),
            message,
        }
    }

    /// Refuse a group that contains itself, directly or not.
    pub(crate) fn check_cycles(&self) -> Result<(), InventoryError> {
        fn visit<'a>(
            inventory: &'a Inventory,
            name: &'a str,
            path: &mut Vec<&'a str>,
        ) -> Result<(), InventoryError> {
            if let Some(start) = path.iter().position(|p| *p == name) {
                let mut cycle = path[start..].to_vec();
                cycle.push(name);
                return Err(
                    inventory.invalid(format!("groups contain each other: {}", cycle.join(" → ")))
                );
            }
            path.push(name);
            if let Some(group) = inventory.groups.get(name) {
                for child in &group.children {
                    visit(inventory, child, path)?;
                }
            }
            path.pop();
            Ok(())
        }
        for name in self.groups.keys() {
            visit(self, name, &mut Vec::new())?;
        }
        Ok(())
    }

    /// Indexes (definition order) of the hosts in `group`, its children included.
    pub(crate) fn members(&self, group: &str) -> BTreeSet<usize> {
        if group == ALL {
            return (0..self.hosts.len()).collect();
        }
        if group == UNGROUPED {
            return (0..self.hosts.len())
                .filter(|&i| self.direct_groups(&self.hosts[i].name).is_empty())
                .collect();
        }
        let mut found = BTreeSet::new();
        let mut pending = vec![group];
        let mut seen = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if !seen.insert(name) {
                continue;
            }
            if let Some(g) = self.groups.get(name) {
                found.extend(g.hosts.iter().filter_map(|h| self.index.get(h).copied()));
                pending.extend(g.children.iter().map(String::as_str));
            }
        }
        found
    }

    /// The host at `index` in definition order.
    pub(crate) fn host_at(&self, index: usize) -> &str {
        &self.hosts[index].name
    }

    fn direct_groups(&self, host: &str) -> Vec<&str> {
        self.groups
            .values()
            .filter(|g| g.entry.name != ALL && g.hosts.iter().any(|h| h == host))
            .map(|g| g.entry.name.as_str())
            .collect()
    }

    /// Each group's depth below `all` (the longest path of child links), so
    /// inner groups override outer ones.
    fn depths(&self) -> HashMap<&str, usize> {
        fn depth<'a>(
            name: &'a str,
            parents: &HashMap<&'a str, Vec<&'a str>>,
            memo: &mut HashMap<&'a str, usize>,
        ) -> usize {
            if let Some(&d) = memo.get(name) {
                return d;
            }
            let d = parents.get(name).map_or(1, |ps| {
                ps.iter()
                    .map(|p| {
                        if *p == ALL {
                            1
                        } else {
                            depth(p, parents, memo) + 1
                        }
                    })
                    .max()
                    .unwrap_or(1)
            });
            memo.insert(name, d);
            d
        }
        let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
        for group in self.groups.values() {
            for child in &group.children {
                parents
                    .entry(child.as_str())
                    .or_default()
                    .push(group.entry.name.as_str());
            }
        }
        let mut memo = HashMap::new();
        for name in self.groups.keys() {
            if name != ALL {
                depth(name, &parents, &mut memo);
            }
        }
        memo
    }

    /// The host with everything its groups give it; `None` if there is no such host.
    pub fn resolve(&self, host: &str) -> Option<ResolvedHost> {
        let entry = &self.hosts[*self.index.get(host)?];
        let depths = self.depths();
        let index = self.index[host];
        let mut groups: Vec<(&str, usize)> = self
            .groups
            .keys()
            .filter(|name| name.as_str() != ALL && self.members(name).contains(&index))
            .map(|name| {
                (
                    name.as_str(),
                    depths.get(name.as_str()).copied().unwrap_or(1),
                )
            })
            .collect();
        groups.sort_by_key(|&(name, depth)| (depth, name));
        let mut settings = Vars::new();
        let mut vars = Vars::new();
        let layers = self
            .groups
            .get(ALL)
            .map(|g| &g.entry)
            .into_iter()
            .chain(groups.iter().map(|(name, _)| &self.groups[*name].entry))
            .chain(std::iter::once(entry));
        for layer in layers {
            settings.extend(layer.settings.clone());
            vars.extend(layer.vars.clone());
        }
        let mut names: Vec<String> = groups.iter().map(|(n, _)| n.to_string()).collect();
        if self.direct_groups(host).is_empty() {
            names.push(UNGROUPED.to_string());
        }
        names.sort();
        Some(ResolvedHost {
            name: host.to_string(),
            groups: names,
            settings,
            vars,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Var;

    fn set(entry: &mut Entry, key: &str, value: &str) {
        entry.settings.insert(key.into(), Var::Str(value.into()));
    }

    #[test]
    fn inner_groups_override_outer_ones_and_the_host_wins() {
        let mut inv = Inventory::new("test");
        set(inv.group_mut(ALL), "user", "all");
        set(inv.group_mut("prod"), "user", "prod");
        set(inv.group_mut("web"), "user", "web");
        set(inv.group_mut("web"), "port", "2222");
        inv.add_child("prod", "web").unwrap();
        inv.add_to_group("web", "web1");
        inv.add_to_group("prod", "db1");
        set(inv.host_mut("db1"), "port", "5");
        let web1 = inv.resolve("web1").unwrap();
        assert_eq!(web1.settings["user"], Var::Str("web".into()));
        assert_eq!(web1.groups, ["prod", "web"]);
        let db1 = inv.resolve("db1").unwrap();
        assert_eq!(db1.settings["user"], Var::Str("prod".into()));
        assert_eq!(db1.settings["port"], Var::Str("5".into()));
        assert!(inv.resolve("nope").is_none());
    }

    #[test]
    fn membership_follows_children_and_ungrouped_is_the_rest() {
        let mut inv = Inventory::new("test");
        inv.host_mut("lone");
        inv.add_child("prod", "web").unwrap();
        inv.add_to_group("web", "web1");
        assert_eq!(inv.members("prod").len(), 1);
        assert_eq!(inv.members(UNGROUPED), BTreeSet::from([0]));
        assert_eq!(inv.resolve("lone").unwrap().groups, [UNGROUPED]);
    }

    #[test]
    fn cycles_are_refused_naming_the_path() {
        let mut inv = Inventory::new("inv.ini");
        inv.add_child("a", "b").unwrap();
        inv.add_child("b", "a").unwrap();
        let error = inv.check_cycles().unwrap_err().to_string();
        assert!(error.contains("a → b → a"), "{error}");
        assert!(error.contains("inv.ini"), "{error}");
    }
}
