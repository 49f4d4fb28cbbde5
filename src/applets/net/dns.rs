//! stub

use std::ffi::OsString;

/// Entry point.
pub fn dig_main(_args: Vec<OsString>) -> i32 {
    1
}
/// Entry point.
pub fn nslookup_main(_args: Vec<OsString>) -> i32 {
    1
}
