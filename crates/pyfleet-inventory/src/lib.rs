//! Inventories for pyfleet: which hosts exist, how they group, and how each is
//! reached.
//!
//! Three formats load into one model: pyfleet's TOML (see [`toml_format`]) and
//! Ansible's INI and YAML inventories, whose `ansible_*` connection variables
//! (`ansible_host`, `ansible_user`, `ansible_port`, `ansible_connection`,
//! `ansible_python_interpreter`, `ansible_become*` …) become the same settings.
//! [`Inventory::select`] takes Ansible host patterns; [`Inventory::plan`] turns a
//! host into a local interpreter or a chain of hops.
//!
//! ```
//! let inventory = pyfleet_inventory::parse_toml(r#"
//! [groups.web]
//! hosts = ["web[1:3]"]
//! user = "deploy"
//! [hosts.web3]
//! address = "10.0.0.13"
//! "#, "fleet.toml").unwrap();
//! assert_eq!(inventory.select("web:!web1").unwrap(), ["web2", "web3"]);
//! let plan = inventory.plan("web3").unwrap();
//! assert_eq!(plan.route(), "ssh deploy@10.0.0.13");
//! ```

pub mod ansible;
mod error;
mod host_range;
mod model;
mod pattern;
mod plan;
pub mod settings;
pub mod toml_format;
mod value;

use std::path::Path;

pub use ansible::{parse_ini, parse_yaml};
pub use error::InventoryError;
pub use host_range::expand_host_range;
pub use model::{ALL, Entry, Inventory, ResolvedHost, UNGROUPED};
pub use pattern::glob_match;
pub use plan::{HostPlan, PlannedHop, Secret, Target};
pub use toml_format::parse_toml;
pub use value::{Var, Vars};

/// Read an inventory file: `.toml` is pyfleet's format, `.yml`/`.yaml` Ansible
/// YAML, anything else Ansible INI (Ansible's own default).
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|error| InventoryError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let source = path.display().to_string();
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => parse_toml(&text, &source),
        Some("yml" | "yaml") => parse_yaml(&text, &source),
        _ => parse_ini(&text, &source),
    }
}
