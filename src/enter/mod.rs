//! Entering the target: namespaces, credentials, capabilities, cgroups, LSM.

pub mod caps;
pub mod cgroup;
pub mod confine;
pub mod env;
pub mod lsm;
pub mod ns;
pub mod procinfo;
pub mod seccomp;
pub mod user;
