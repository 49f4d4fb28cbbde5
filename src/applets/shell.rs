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
//! empty directory to hold one) applets are registered as shell builtins of
//! a special kind: `NAME` runs the container's own program when one is on
//! `PATH`, else the bundled applet; `cdbg-NAME` always runs the bundled
//! applet. A bundled applet then runs as a child process re-executed from
//! cdbg's own descriptor (see [`crate::sys::selfexe`]), with the shell's
//! redirections, pipes, working directory and exported variables, so
//! pipelines, redirections, exit codes and Ctrl-C behave as for any external
//! program. It never needs /proc or a file in the container. (brush's own
//! "bundled commands" re-run the binary by path, which breaks after
//! chroot/setns: hence this module.)
//!
//! Known differences from bash:
//! - Builtin-run applets (no tool directory only): brush-core 0.5 gives a
//!   builtin no way to hand a process to its job table (`Job::new` is
//!   crate-private and a builtin returns only an exit status), so in an
//!   interactive shell such an applet runs in the shell's process group
//!   with SIGTSTP ignored: Ctrl-C reaches it, Ctrl-Z does nothing (it could
//!   not be resumed with `fg`); `type NAME` reports a builtin. In the
//!   background (`cdbg-sleep 9 &`) it is a job like any other.
//! - brush-core 0.5 itself, for every command: a `&` job records no PID, so
//!   `kill %N` fails for it ("failed to send signal"; `$!` is unset, the
//!   job line shows `<pid unknown>`, `jobs -l` is not implemented) —
//!   `kill PID` works, and so does `kill %N` for a job that was stopped
//!   with Ctrl-Z and resumed with `bg`; `wait` is not interrupted by
//!   Ctrl-C; `wait %N` gave 0 for a `&` job whose program was killed by a
//!   signal. A Ctrl-Z while a `&` job runs may be taken by that job's wait
//!   (brush collects stop reports of all children): its entry then reads
//!   "Stopped" and soon "Done" although its program still runs (`kill PID`
//!   ends it); the foreground job is recorded as stopped all the same and
//!   the prompt comes back, through `stop_watchdog` (brush alone hangs).
//! - Commands read from a non-terminal stdin are read whole before running.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::sync::Arc;

use brush_builtins::BuiltinSet;
use brush_core::builtins::{BoxFuture, ContentOptions, ContentType, Registration};
use brush_core::commands::{self, ExecutionContext, ShellForCommand, SimpleCommand};
use brush_core::{CommandArg, ExecutionResult, Shell};

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

/// Builtins for every applet: `NAME` (unless brush has a builtin of that
/// name, which wins as in bash) and `cdbg-NAME`. None when the session's
/// tool directory is on PATH: brush then finds the applets there as
/// external programs (after the system's own, as PATH orders them), and its
/// job control covers them.
fn applet_builtins(builtins: &mut std::collections::HashMap<String, Registration<SE>>) {
    if tool_dir_on_path().is_some() {
        return;
    }
    for (name, _, _) in super::list() {
        let reg = || Registration::<SE> {
            execute_func: exec_applet_builtin,
            content_func: applet_content,
            disabled: false,
            special_builtin: false,
            declaration_builtin: false,
        };
        builtins.entry((*name).to_string()).or_insert_with(reg);
        builtins.insert(format!("{FORCE_PREFIX}{name}"), reg());
    }
}

fn applet_content(
    name: &str,
    content_type: ContentType,
    _options: &ContentOptions,
) -> Result<String, brush_core::Error> {
    let applet = name.strip_prefix(FORCE_PREFIX).unwrap_or(name);
    let summary = super::list()
        .into_iter()
        .find(|e| e.0 == applet)
        .map_or("", |e| e.2);
    Ok(match content_type {
        ContentType::ShortUsage => format!("{name} [ARG...]\n"),
        ContentType::ShortDescription => format!("{name} - {summary}\n"),
        _ => format!("{name}: {summary} (bundled cdbg applet; see `{name} --help`)\n"),
    })
}

fn exec_applet_builtin(
    context: ExecutionContext<'_, SE>,
    args: Vec<CommandArg>,
) -> BoxFuture<'_, Result<ExecutionResult, brush_core::Error>> {
    Box::pin(run_applet_builtin(context, args))
}

async fn run_applet_builtin(
    context: ExecutionContext<'_, SE>,
    args: Vec<CommandArg>,
) -> Result<ExecutionResult, brush_core::Error> {
    let name = context.command_name.clone();
    let (applet, forced) = match name.strip_prefix(FORCE_PREFIX) {
        Some(a) => (a.to_string(), true),
        None => (name.clone(), false),
    };

    // The system's own program wins over the bundled applet.
    if !forced {
        if let Some(path) = context
            .shell
            .find_first_executable_in_path_using_cache(&name)
        {
            let mut cmd = SimpleCommand::new(
                ShellForCommand::ParentShell(context.shell),
                context.params,
                path.to_string_lossy().into_owned(),
                args,
            );
            cmd.argv0 = Some(name);
            cmd.use_functions = false;
            let spawned = cmd.execute().await?;
            return Ok(spawned.wait().await?.into());
        }
    }

    let argv: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| match a {
            CommandArg::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let mut cmd = commands::compose_std_command(&context, &applet, &applet, &argv, false)?;
    let env = crate::sys::selfexe::command_env(&cmd);
    let mut full_argv: Vec<OsString> = vec![applet.clone().into()];
    full_argv.extend(argv.iter().map(OsString::from));
    // In an interactive shell the applet shares the shell's process group
    // (a builtin cannot hand a process to brush's job table), so Ctrl-C
    // reaches it; Ctrl-Z is ignored rather than leaving an untracked stopped
    // process.
    let ignore_tstp = context.shell.options().enable_job_control;
    let spawned = crate::sys::selfexe::exec_self_in_child(&mut cmd, &full_argv, &env, ignore_tstp)
        .and_then(|()| tokio::process::Command::from(cmd).spawn());
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: cannot run the bundled applet: {e}");
            return Ok(ExecutionResult::new(126));
        }
    };
    let status = child.wait().await?;
    Ok(ExecutionResult::new(exit_code(status)))
}

fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(s)) => (128 + s) as u8,
        _ => 1,
    }
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
    let mut builtins = brush_builtins::default_builtins::<SE>(set);
    applet_builtins(&mut builtins);

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
    // job-control signals: a bundled applet runs in the shell's process
    // group, so Ctrl-C and Ctrl-Z reach the shell too and must not kill or
    // stop it (nor the SIGTSTP of `stop_watchdog`). Handlers are reset to
    // the default by exec.
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
    let watchdog =
        (stdin_tty && shell.options().enable_job_control).then(|| tokio::spawn(stop_watchdog()));
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
    if let Some(w) = watchdog {
        w.abort();
    }
    let code = shell_ref.lock().await.last_exit_status();
    code.into()
}

/// Works around a brush-core 0.5 bug: every wait for a child listens for
/// SIGCHLD and then collects stop reports of ALL children
/// (`waitid(P_ALL, WUNTRACED)`), so while a `&` job runs, its wait may take
/// the stop report of the foreground job after Ctrl-Z; the foreground wait
/// then never returns and the shell hangs with the job stopped on the
/// terminal. When, shortly after a SIGCHLD, the terminal still belongs to
/// another process group whose leader is stopped, this sends SIGTSTP to the
/// shell itself: brush's waits take that as "the foreground job stopped",
/// record the job and take the terminal back. Needs /proc (does nothing
/// without it).
async fn stop_watchdog() {
    use rustix::process::{getpgrp, getpid, kill_process, Signal};
    let Ok(mut chld) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()) else {
        return;
    };
    let me = getpgrp();
    while chld.recv().await.is_some() {
        // brush's own wait, when it got the report, reclaims the terminal
        // well within this.
        let pause = || std::thread::sleep(std::time::Duration::from_millis(300));
        if tokio::task::spawn_blocking(pause).await.is_err() {
            return;
        }
        let Ok(fg) = rustix::termios::tcgetpgrp(std::io::stdin()) else {
            continue;
        };
        if fg != me && process_stopped(fg.as_raw_nonzero().get()) {
            let _ = kill_process(getpid(), Signal::TSTP);
        }
    }
}

/// Whether process `pid` is stopped (state `T` in /proc/PID/stat).
fn process_stopped(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
    })
}
