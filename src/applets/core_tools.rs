//! The shell and the file and text tools: uutils coreutils applets, grep,
//! find, and the bundled shell.

use std::ffi::OsString;

use super::{Entry, Main};

/// Prepares uucore's global state for an applet called `name` and runs it.
///
/// uucore derives the utility's name from the process arguments: when cdbg
/// was run as `cdbg NAME ...` rather than through a link called NAME, tell it
/// that the utility is the second argument.
fn uu(name: &str, args: Vec<OsString>, main: fn(std::vec::IntoIter<OsString>) -> i32) -> i32 {
    let mut process_args = std::env::args_os();
    let argv0 = process_args.next();
    let base = argv0
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = base
        .strip_prefix(super::shell::FORCE_PREFIX)
        .unwrap_or(&base);
    if base != name && process_args.next().is_some_and(|a| a == name) {
        uucore::set_utility_is_second_arg();
    }
    let _ =
        uucore::locale::setup_localization(uucore::get_canonical_util_name(&format!("uu_{name}")));
    main(args.into_iter())
}

macro_rules! uu_applets {
    ($( $name:literal => $f:ident, $krate:ident, $summary:literal; )*) => {
        $(
            fn $f(args: Vec<OsString>) -> i32 {
                uu($name, args, $krate::uumain)
            }
        )*
        /// uutils applets (name, entry, summary).
        const UU: &[Entry] = &[ $( ($name, $f as Main, $summary), )* ];
    };
}

uu_applets! {
    "basename" => uu_basename_main, uu_basename, "strip directory and suffix from a file name";
    "cat" => uu_cat_main, uu_cat, "concatenate files to standard output";
    "chmod" => uu_chmod_main, uu_chmod, "change file mode bits";
    "chown" => uu_chown_main, uu_chown, "change file owner and group";
    "cp" => uu_cp_main, uu_cp, "copy files and directories";
    "cut" => uu_cut_main, uu_cut, "remove sections from each line of files";
    "date" => uu_date_main, uu_date, "print or set the system date and time";
    "df" => uu_df_main, uu_df, "report file system space usage";
    "dirname" => uu_dirname_main, uu_dirname, "strip the last component from a file name";
    "du" => uu_du_main, uu_du, "estimate file space usage";
    "echo" => uu_echo_main, uu_echo, "display a line of text";
    "env" => uu_env_main, uu_env, "run a program in a modified environment";
    "false" => uu_false_main, uu_false, "do nothing, unsuccessfully";
    "head" => uu_head_main, uu_head, "output the first part of files";
    "hostname" => uu_hostname_main, uu_hostname, "show or set the system's host name";
    "id" => uu_id_main, uu_id, "print real and effective user and group IDs";
    "kill" => uu_kill_main, uu_kill, "send a signal to a process";
    "ln" => uu_ln_main, uu_ln, "make links between files";
    "ls" => uu_ls_main, uu_ls, "list directory contents";
    "mkdir" => uu_mkdir_main, uu_mkdir, "make directories";
    "mktemp" => uu_mktemp_main, uu_mktemp, "create a temporary file or directory";
    "mv" => uu_mv_main, uu_mv, "move (rename) files";
    "nproc" => uu_nproc_main, uu_nproc, "print the number of processing units available";
    "printf" => uu_printf_main, uu_printf, "format and print data";
    "pwd" => uu_pwd_main, uu_pwd, "print name of current/working directory";
    "readlink" => uu_readlink_main, uu_readlink, "print resolved symbolic links or canonical file names";
    "realpath" => uu_realpath_main, uu_realpath, "print the resolved path";
    "rm" => uu_rm_main, uu_rm, "remove files or directories";
    "rmdir" => uu_rmdir_main, uu_rmdir, "remove empty directories";
    "seq" => uu_seq_main, uu_seq, "print a sequence of numbers";
    "sleep" => uu_sleep_main, uu_sleep, "delay for a specified amount of time";
    "sort" => uu_sort_main, uu_sort, "sort lines of text files";
    "stat" => uu_stat_main, uu_stat, "display file or file system status";
    "tail" => uu_tail_main, uu_tail, "output the last part of files";
    "tee" => uu_tee_main, uu_tee, "read from standard input and write to standard output and files";
    "test" => uu_test_main, uu_test, "check file types and compare values";
    "touch" => uu_touch_main, uu_touch, "change file timestamps";
    "tr" => uu_tr_main, uu_tr, "translate or delete characters";
    "true" => uu_true_main, uu_true, "do nothing, successfully";
    "uname" => uu_uname_main, uu_uname, "print system information";
    "uniq" => uu_uniq_main, uu_uniq, "report or omit repeated lines";
    "wc" => uu_wc_main, uu_wc, "print newline, word, and byte counts for each file";
    "whoami" => uu_whoami_main, uu_whoami, "print effective user name";
    "yes" => uu_yes_main, uu_yes, "output a string repeatedly until killed";
    "[" => uu_bracket_main, uu_test, "check file types and compare values";
}

/// Every applet of this module.
#[rustfmt::skip]
pub const APPLETS: &[Entry] = entries! {
    "bash" => super::shell::main, "the bundled bash-compatible shell";
    "find" => super::find::main, "search for files in a directory hierarchy";
    "grep" => super::grep::main, "print lines that match patterns";
    "egrep" => super::grep::egrep_main, "grep -E";
    "fgrep" => super::grep::fgrep_main, "grep -F";
    "sh" => super::shell::main, "the bundled bash-compatible shell";
    "xargs" => super::find::xargs_main, "build and run command lines from standard input";
};

/// The uutils applets, for the registry.
pub const UU_APPLETS: &[Entry] = UU;
