//! One fleet written three ways (pyfleet TOML, Ansible INI, Ansible YAML) must give
//! the same hosts, groups and connection plans.

use std::path::Path;

use pyfleet_inventory::{HostPlan, Inventory, load};

fn fixture(name: &str) -> Inventory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// A plan as text, without the passwords' sources: Ansible has no way to name a
/// password's environment variable.
fn comparable(plan: &HostPlan) -> String {
    format!(
        "{} {:?} {:?}",
        plan.route(),
        plan.groups,
        plan.target_debug()
    )
}

trait TargetDebug {
    fn target_debug(&self) -> String;
}

impl TargetDebug for HostPlan {
    fn target_debug(&self) -> String {
        match &self.target {
            pyfleet_inventory::Target::Local(options) => {
                format!("local {:?}", options.startup_config())
            }
            pyfleet_inventory::Target::Hops(hops) => hops
                .iter()
                .map(|h| format!("{:?}", h.hop))
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }
}

#[test]
fn toml_ini_and_yaml_give_the_same_plans() {
    let toml = fixture("fleet.toml");
    let ini = fixture("hosts.ini");
    let yaml = fixture("hosts.yml");
    let mut hosts: Vec<&str> = toml.host_names().collect();
    hosts.sort_unstable();
    for other in [&ini, &yaml] {
        let mut names: Vec<&str> = other.host_names().collect();
        names.sort_unstable();
        assert_eq!(names, hosts, "{}", other.source());
    }
    for host in &hosts {
        let expected = comparable(&toml.plan(host).unwrap());
        for other in [&ini, &yaml] {
            assert_eq!(
                comparable(&other.plan(host).unwrap()),
                expected,
                "{host} from {}",
                other.source()
            );
        }
    }
    let db1 = toml.plan("db1").unwrap();
    assert_eq!(db1.route(), "ssh deploy@10.0.0.21 → sudo user postgres");
    assert_eq!(toml.plan("web2").unwrap().route(), "ssh deploy@web2:2222");
    assert_eq!(toml.plan("builder").unwrap().route(), "local");
}

#[test]
fn patterns_select_the_same_hosts_in_every_format() {
    for inventory in [
        fixture("fleet.toml"),
        fixture("hosts.ini"),
        fixture("hosts.yml"),
    ] {
        let mut selected = inventory.select("prod:!web2").unwrap();
        selected.sort_unstable();
        assert_eq!(selected, ["db1", "web1"], "{}", inventory.source());
        assert_eq!(inventory.select("ungrouped").unwrap(), ["builder"]);
    }
}

#[test]
fn a_missing_file_is_named() {
    let error = load(Path::new("/nonexistent/fleet.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cannot read inventory /nonexistent/fleet.toml"),
        "{error}"
    );
}
