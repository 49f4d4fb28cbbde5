//! The PTY and the I/O relay.
