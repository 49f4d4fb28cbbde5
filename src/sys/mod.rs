//! The one place for `unsafe`: thin wrappers over syscalls that rustix does
//! not cover. Every block carries a `// SAFETY:` comment.

pub mod procs;
