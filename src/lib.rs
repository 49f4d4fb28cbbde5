//! cdbg: a daemonless container debugger.
//!
//! The modules follow the flow of one invocation:
//! `target` (find the container) → `enter` (namespaces, credentials,
//! cgroups, LSM) → `session` (process tree, lifetime) → `tty` (PTY and
//! relay) → `applets` (the bundled tools). `cli` is a thin layer on top and
//! `sys` holds every `unsafe` block.

pub mod applets;
pub mod cli;
pub mod demo;
pub mod enter;
pub mod session;
pub mod sys;
pub mod target;
pub mod tty;
