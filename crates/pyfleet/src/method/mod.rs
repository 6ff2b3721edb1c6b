//! How a child is reached. Each method turns its options into a launch plan that the
//! router's connect routine carries out.

pub mod interpreter;
pub mod local;

pub use local::LocalOptions;
