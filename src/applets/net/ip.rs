//! stub

use std::ffi::OsString;

/// Entry point.
pub fn main(_args: Vec<OsString>) -> i32 {
    1
}
