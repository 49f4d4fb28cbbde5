//! stub

use std::ffi::OsString;

/// Entry point.
pub fn wget_main(_args: Vec<OsString>) -> i32 {
    1
}
/// Entry point.
pub fn http_main(_args: Vec<OsString>) -> i32 {
    1
}
