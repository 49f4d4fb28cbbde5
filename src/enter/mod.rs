//! Entering the target: namespaces, credentials, capabilities, cgroups, LSM.

pub mod env;
pub mod ns;
