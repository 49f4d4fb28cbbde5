//! The bundled shell (`sh`, `bash`): brush with every applet reachable by
//! name.
//!
//! In a cdbg session the applets normally live in the session's tool
//! directory (`DIR/.cdbg/bin`, appended to PATH by the session leader; see
//! `tool_dir` in src/session/leader.rs): a link `NAME` and `cdbg-NAME` per
//! applet. When that directory is on PATH at start-up, this shell registers
//! nothing of its own: brush finds the applets as ordinary programs, after
//! the system's own of the same name (PATH order), so pipelines,
//! redirections, Ctrl-C, Ctrl-Z, `jobs`, `fg`, `bg`, `&` and exit codes are
//! brush's own handling of external commands.
//!
//! Without a tool directory (on the host, or in a container that has no
//! empty directory to hold one) the applets are programs this shell provides
//! itself, through a hook of our brush-core patch (vendor/README.md): brush
//! looks for them after PATH, so `NAME` runs the container's own program
//! when one is on PATH, else the bundled applet; `cdbg-NAME` always runs the
//! bundled applet. Either way brush starts it as an external command — its
//! own process and process group, in the job table — whose last pre-exec
//! step re-executes cdbg's own descriptor (see [`crate::sys::selfexe`]), so
//! job control, pipelines, redirections and exit codes are the same as with
//! a tool directory, and no /proc or file in the container is needed.
//! `type NAME` and `command -v NAME` report such an applet as a builtin.
//! (brush's own "bundled commands" re-run the binary by path, which breaks
//! after chroot/setns: hence this module.)
//!
//! brush-core 0.5 ran `CMD &` as a task inside the shell with no process ID;
//! our patch starts a plain `&` pipeline as bash does, so `$!`, `kill %N`,
//! `jobs -l`, `wait PID|%N` (with the job's status) and Ctrl-C in `wait`
//! work. Known differences from bash that remain:
//! - A `&` list that is not one plain pipeline of simple commands (`a && b &`,
//!   `{ ...; } &`, a shell function, a command substitution in its words)
//!   still runs as an in-shell task: it has no PID (`$!` is empty for it).
//! - Commands read from a non-terminal stdin are read whole before running.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::sync::Arc;

use brush_builtins::BuiltinSet;
use brush_core::Shell;

type SE = brush_core::extensions::DefaultShellExtensions;

/// Prefix that forces the bundled applet (`cdbg-ls`).
pub const FORCE_PREFIX: &str = "cdbg-";

const USAGE: &str = "\
Usage: sh [OPTIONS] [-c COMMAND [NAME [ARG...]] | SCRIPT [ARG...]]
The bundled bash-compatible shell (brush). Every cdbg applet is available by
name when the system has no program of that name; cdbg-NAME always runs the
bundled applet.
  -c COMMAND     run COMMAND and exit
  -i             interactive even when stdin is not a terminal
  -l, --login    login shell (reads profile files)
  -s             read commands from standard input
  -e -u -x -v -f -C -a -n   as `set -e` etc.; -o NAME as `set -o NAME`
  --norc, --noprofile, --posix, --help, --version
";

#[derive(Default)]
struct Opts {
    name: String,
    command: Option<String>,
    script: Option<String>,
    positional: Vec<String>,
    interactive: bool,
    login: bool,
    stdin: bool,
    posix: bool,
    enabled: Vec<String>,
    disabled: Vec<String>,
}

fn letter_option(c: char) -> Option<&'static str> {
    Some(match c {
        'e' => "errexit",
        'u' => "nounset",
        'x' => "xtrace",
        'v' => "verbose",
        'f' => "noglob",
        'C' => "noclobber",
        'a' => "allexport",
        'n' => "noexec",
        'm' => "monitor",
        'h' => "hashall",
        'b' => "notify",
        'B' => "braceexpand",
        _ => return None,
    })
}

fn parse(args: Vec<OsString>) -> Result<Opts, String> {
    let mut it = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    let argv0 = it.next().unwrap_or_else(|| "sh".into());
    let mut o = Opts {
        name: argv0.clone(),
        ..Default::default()
    };
    if argv0.starts_with('-') {
        o.login = true; // login shells are started as "-sh"
    }
    let rest: Vec<String> = it.collect();
    let mut i = 0;
    let mut dash_c = false;
    while i < rest.len() {
        let a = &rest[i];
        match a.as_str() {
            "--" => {
                i += 1;
                break;
            }
            "--login" => o.login = true,
            "--norc" | "--noprofile" | "--noediting" => {}
            "--posix" => o.posix = true,
            "--help" => return Err(String::new()),
            "--version" => return Err("version".into()),
            s if (s.starts_with('-') || s.starts_with('+')) && s.len() > 1 => {
                let on = s.starts_with('-');
                for c in s[1..].chars() {
                    match c {
                        'c' if on => dash_c = true,
                        'i' if on => o.interactive = true,
                        'l' if on => o.login = true,
                        's' if on => o.stdin = true,
                        'o' => {
                            i += 1;
                            let name = rest.get(i).ok_or("-o: option name required")?;
                            if on {
                                o.enabled.push(name.clone());
                            } else {
                                o.disabled.push(name.clone());
                            }
                        }
                        c => match letter_option(c) {
                            Some(n) if on => o.enabled.push(n.into()),
                            Some(n) => o.disabled.push(n.into()),
                            None => return Err(format!("-{c}: invalid option")),
                        },
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    let mut rest = rest.into_iter().skip(i);
    if dash_c {
        o.command = Some(rest.next().ok_or("-c: option requires an argument")?);
        if let Some(n) = rest.next() {
            o.name = n;
        }
    } else if !o.stdin {
        o.script = rest.next();
        if let Some(s) = &o.script {
            o.name = s.clone();
        }
    }
    o.positional = rest.collect();
    Ok(o)
}

/// Entry point of the `sh` and `bash` applets.
pub fn main(args: Vec<OsString>) -> i32 {
    let opts = match parse(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) if e == "version" => {
            println!("cdbg sh (brush-core 0.5) {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(e) => {
            eprintln!("sh: {e}");
            eprint!("{USAGE}");
            return 2;
        }
    };
    // The shell runs in the final process, after every namespace was
    // entered, so an async runtime with threads is fine here.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sh: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let code = rt.block_on(run(opts));
    rt.shutdown_background();
    code
}

/// The session's tool directory when it is on PATH: a directory named
/// `.cdbg/bin` holding `cdbg` (see the session leader), whose links run the
/// applets as ordinary programs.
fn tool_dir_on_path() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| {
        d.ends_with(".cdbg/bin") && std::fs::metadata(d.join("cdbg")).is_ok_and(|m| m.is_file())
    })
}

/// Without a tool directory on PATH, the applets are programs the shell
/// provides itself (a hook of our brush-core patch, see vendor/README.md):
/// found after PATH, so the system's own program wins, as `NAME` or forced
/// as `cdbg-NAME`, and started as external commands that exec the sealed
/// copy of cdbg, so brush's job control covers them as any program. With a
/// tool directory, brush finds them there as ordinary files.
fn provide_applets() {
    if tool_dir_on_path().is_some() {
        return;
    }
    brush_core::commands::provide_programs(brush_core::commands::ProvidedPrograms {
        provides: |name| super::find(name.strip_prefix(FORCE_PREFIX).unwrap_or(name)).is_some(),
        names: || {
            super::list()
                .into_iter()
                .flat_map(|(name, _, _)| [name.to_string(), format!("{FORCE_PREFIX}{name}")])
                .collect()
        },
        prepare: exec_applet,
    });
}

/// Sets up `cmd`, composed by brush for applet `name`, to exec the sealed
/// copy of cdbg as that applet, with the command's arguments and environment.
fn exec_applet(name: &str, cmd: &mut std::process::Command) -> std::io::Result<()> {
    let applet = name.strip_prefix(FORCE_PREFIX).unwrap_or(name);
    let mut argv: Vec<OsString> = vec![applet.into()];
    argv.extend(cmd.get_args().map(|a| a.to_os_string()));
    let env = crate::sys::selfexe::command_env(cmd);
    crate::sys::selfexe::exec_self_in_child(cmd, &argv, &env)
}

/// The history file: `$HOME/.cdbg_history` when `$HOME` is a writable
/// directory, else none (history stays in memory).
fn history_file() -> Option<String> {
    let home = std::env::var_os("HOME")?;
    let dir = std::path::Path::new(&home);
    let meta = std::fs::metadata(dir).ok()?;
    if !meta.is_dir() || rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_err() {
        return None;
    }
    Some(dir.join(".cdbg_history").to_string_lossy().into_owned())
}

async fn run(opts: Opts) -> i32 {
    let stdin_tty = std::io::stdin().is_terminal();
    let interactive = opts.interactive
        || (opts.command.is_none()
            && opts.script.is_none()
            && stdin_tty
            && std::io::stderr().is_terminal());
    let sh_mode = std::path::Path::new(&opts.name)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().trim_start_matches('-') == "sh")
        && opts.command.is_none()
        && opts.script.is_none();
    let set = if opts.posix || sh_mode {
        BuiltinSet::ShMode
    } else {
        BuiltinSet::BashMode
    };
    let builtins = brush_builtins::default_builtins::<SE>(set);
    provide_applets();

    let mut builder = Shell::builder()
        .interactive(interactive)
        .login(opts.login)
        .posix(opts.posix)
        .shell_name(opts.name.clone())
        .shell_args(opts.positional.clone())
        .profile(if opts.login {
            brush_core::ProfileLoadBehavior::LoadDefault
        } else {
            brush_core::ProfileLoadBehavior::Skip
        })
        .rc(brush_core::RcLoadBehavior::Skip)
        .shell_product_display_str("cdbg sh".to_string())
        .builtins(builtins)
        .enable_options(opts.enabled.clone())
        .disable_options(opts.disabled.clone());
    match history_file() {
        Some(f) if interactive => {
            builder = builder.var(
                "HISTFILE",
                brush_core::ShellVariable::new(brush_core::ShellValue::String(f)),
            );
        }
        _ => {}
    }
    let mut shell = match builder.build().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sh: cannot start: {e}");
            return 2;
        }
    };
    if interactive && history_file().is_none() {
        // Keep history in memory only.
        let _ = shell.env_mut().unset("HISTFILE");
    }

    if let Some(cmd) = opts.command {
        return match shell.run_dash_c_command(cmd).await {
            Ok(r) => u8::from(r.exit_code).into(),
            Err(e) => report(&shell, &e),
        };
    }
    if let Some(script) = opts.script {
        return match shell
            .run_script(&script, opts.positional.iter().cloned())
            .await
        {
            Ok(r) => u8::from(r.exit_code).into(),
            Err(e) => report(&shell, &e),
        };
    }
    if interactive {
        return run_interactive(shell, stdin_tty).await;
    }
    // Commands from a non-terminal stdin.
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("sh: reading standard input: {e}");
        return 2;
    }
    let params = shell.default_exec_params();
    let source = brush_core::SourceInfo::from("main");
    let code = match shell.run_string(input, &source, &params).await {
        Ok(r) => u8::from(r.exit_code).into(),
        Err(e) => report(&shell, &e),
    };
    let _ = shell.on_exit().await;
    code
}

fn report(shell: &Shell<SE>, e: &brush_core::Error) -> i32 {
    let mut err = shell.stderr();
    let _ = shell.display_error(&mut err, e);
    let code: u8 = brush_core::ExecutionExitCode::from(e).into();
    if code == 0 {
        1
    } else {
        code.into()
    }
}

async fn run_interactive(shell: Shell<SE>, stdin_tty: bool) -> i32 {
    use brush_interactive::{
        InteractiveOptions, InteractiveShell, ReedlineInputBackend, UIOptions,
    };

    // Install handlers (not "ignore", which children would inherit) for the
    // job-control signals: Ctrl-C, Ctrl-\\ and Ctrl-Z while the shell itself
    // has the terminal (at the prompt, in `wait`) must not kill or stop it.
    // Handlers are reset to the default by exec.
    let mut signals = Vec::new();
    for kind in [
        tokio::signal::unix::SignalKind::interrupt(),
        tokio::signal::unix::SignalKind::quit(),
        tokio::signal::unix::SignalKind::from_raw(libc::SIGTSTP),
    ] {
        if let Ok(s) = tokio::signal::unix::signal(kind) {
            signals.push(s);
        }
    }
    // brush-interactive acquires the terminal and drops the guard at once;
    // without a guard held for the whole session it spins at 100% CPU when
    // its parent does no job control. Keep one for the session.
    let _terminal = if stdin_tty {
        brush_core::terminal::TerminalControl::acquire().ok()
    } else {
        None
    };
    let shell_ref = Arc::new(tokio::sync::Mutex::new(shell));
    let ui = UIOptions::default();
    let mut backend = match ReedlineInputBackend::new(&ui, &shell_ref) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("sh: cannot set up line editing: {e}");
            return 2;
        }
    };
    let mut ishell =
        match InteractiveShell::new(&shell_ref, &mut backend, &InteractiveOptions::from(&ui)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sh: {e}");
                return 2;
            }
        };
    if let Err(e) = ishell.run_interactively().await {
        eprintln!("sh: {e}");
    }
    drop(ishell);
    drop(signals);
    let code = shell_ref.lock().await.last_exit_status();
    code.into()
}
