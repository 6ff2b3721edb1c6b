//! What can be wrong with an inventory, a pattern or a host's settings.

use std::path::PathBuf;

/// Every message names the file (or pattern, or host) and what to change.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("cannot read inventory {path}: {error}")]
    Read {
        /// The inventory's path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid in its format.
    #[error("{inventory}: not a valid {format} inventory: {message}")]
    Syntax {
        /// The inventory.
        inventory: String,
        /// TOML, Ansible INI or Ansible YAML.
        format: &'static str,
        /// What the parser said, with the line.
        message: String,
    },
    /// The content is well-formed but wrong: an unknown key, a bad value, a cycle.
    #[error("{inventory}: {message}")]
    Invalid {
        /// The inventory.
        inventory: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A host pattern that cannot be used.
    #[error("host pattern {pattern:?}: {message}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// A host whose settings do not make a connection.
    #[error("host {host}: {message}")]
    Plan {
        /// The host.
        host: String,
        /// What is wrong and which setting to change.
        message: String,
    },
}
