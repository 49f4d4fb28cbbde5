//! The process tree of a session and its lifetime.
