use clap::Parser;
use std::io::Write;

use brush_core::{ExecutionResult, builtins, error};

/// Wait for jobs to terminate.
#[derive(Parser)]
pub(crate) struct WaitCommand {
    /// Wait for specified job to terminate (instead of change status).
    #[arg(short = 'f')]
    wait_for_terminate: bool,

    /// Wait for a single job to change status; if jobs are specified, waits for
    /// the first to change status, and otherwise waits for the next change.
    #[arg(short = 'n')]
    wait_for_first_or_next: bool,

    /// Name of variable to receive the job ID of the job whose status is indicated.
    #[arg(short = 'p', value_name = "VAR_NAME")]
    variable_to_receive_id: Option<String>,

    /// Process IDs or job specs to wait for.
    ids: Vec<String>,
}

impl builtins::Command for WaitCommand {
    type Error = brush_core::Error;

    async fn execute<SE: brush_core::ShellExtensions>(
        &self,
        context: brush_core::ExecutionContext<'_, SE>,
    ) -> Result<ExecutionResult, Self::Error> {
        if self.wait_for_terminate {
            return error::unimp("wait -f");
        }
        if self.wait_for_first_or_next {
            return error::unimp("wait -n");
        }
        if self.variable_to_receive_id.is_some() {
            return error::unimp("wait -p");
        }

        // cdbg patch: Ctrl-C ends any wait with 130, as in bash.
        match self.wait(context).await {
            Err(e) if matches!(e.kind(), error::ErrorKind::Interrupted) => {
                Ok(ExecutionResult::new(130))
            }
            waited => waited,
        }
    }
}

impl WaitCommand {
    /// cdbg patch: `wait %N` and `wait PID` return the job's status (127 and
    /// a message for an unknown one), as in bash.
    async fn wait<SE: brush_core::ShellExtensions>(
        &self,
        context: brush_core::ExecutionContext<'_, SE>,
    ) -> Result<ExecutionResult, brush_core::Error> {
        let mut result = ExecutionResult::success();

        if !self.ids.is_empty() {
            for id in &self.ids {
                let job = if id.starts_with('%') {
                    context.shell.jobs_mut().resolve_job_spec(id)
                } else {
                    let pid = brush_core::int_utils::parse::<i32>(id.as_str(), 10)?;
                    context
                        .shell
                        .jobs_mut()
                        .jobs
                        .iter_mut()
                        .find(|job| job.pids().contains(&pid))
                };
                let Some(job) = job else {
                    if id.starts_with('%') {
                        writeln!(
                            context.stderr(),
                            "{}: {id}: no such job",
                            context.command_name
                        )?;
                    } else {
                        writeln!(
                            context.stderr(),
                            "{}: pid {id} is not a child of this shell",
                            context.command_name
                        )?;
                    }
                    result = ExecutionResult::new(127);
                    continue;
                };
                result = job.wait().await?;
            }
        } else {
            // Wait for all jobs.
            let jobs = context.shell.jobs_mut().wait_all().await?;

            if context.shell.options().enable_job_control {
                for job in jobs {
                    writeln!(context.stdout(), "{job}")?;
                }
            }
        }

        Ok(result)
    }
}
