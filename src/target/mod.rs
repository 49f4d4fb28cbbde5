//! Finding containers from procfs, cgroups and the runtimes' files on disk.
