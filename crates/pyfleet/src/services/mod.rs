//! Services the master provides to children: Python modules and their data files
//! on demand.

pub mod modules;

pub use modules::{ModuleError, ModuleServer, read_main};
