//! Entering the target: namespaces, credentials, capabilities, cgroups, LSM.
