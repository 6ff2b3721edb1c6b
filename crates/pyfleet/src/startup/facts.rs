//! A child's HELLO names its interpreter: [`PythonTarget::from_facts`] reads it.
//!
//! [`PythonTarget::from_facts`]: super::PythonTarget::from_facts

use pyfleet_startup::ReportsTarget;

use crate::bootstrap::ChildFacts;

impl ReportsTarget for ChildFacts {
    fn reported_implementation(&self) -> &str {
        &self.implementation
    }

    fn reported_version(&self) -> (u32, u32, u32) {
        (self.version.0, self.version.1, self.version.2)
    }
}
