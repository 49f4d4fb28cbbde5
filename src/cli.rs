//! The command line: a thin layer over target → enter → session → tty.

pub fn main() -> i32 {
    // Minimal multi-call dispatch (procs helper, for tests): a binary or
    // symlink named after an applet runs it. The lead keeps an equivalent.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(name) = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
    {
        if let Some(applet) = crate::applets::find(name) {
            return applet(argv);
        }
    }
    0
}
