use clap::Parser;
use std::io::Write;

use brush_core::{ExecutionResult, builtins, error, jobs};

/// Manage jobs.
#[derive(Parser)]
pub(crate) struct JobsCommand {
    /// Also show process IDs.
    #[arg(short = 'l')]
    also_show_pids: bool,

    /// List only jobs that have changed status since the last notification.
    #[arg(short = 'n')]
    list_changed_only: bool,

    /// Show only process IDs.
    #[arg(short = 'p')]
    show_pids_only: bool,

    /// Show only running jobs.
    #[arg(short = 'r')]
    running_jobs_only: bool,

    /// Show only stopped jobs.
    #[arg(short = 's')]
    stopped_jobs_only: bool,

    /// Job specs to list.
    // TODO(jobs): Add -x option
    job_specs: Vec<String>,
}

impl builtins::Command for JobsCommand {
    type Error = brush_core::Error;

    async fn execute<SE: brush_core::ShellExtensions>(
        &self,
        context: brush_core::ExecutionContext<'_, SE>,
    ) -> Result<brush_core::ExecutionResult, Self::Error> {
        if self.list_changed_only {
            return error::unimp("jobs -n");
        }

        // cdbg patch: `jobs -l` and `jobs %N...`.
        let mut result = ExecutionResult::success();
        let ids: Vec<usize> = if self.job_specs.is_empty() {
            context.shell.jobs().jobs.iter().map(|job| job.id).collect()
        } else {
            let mut ids = vec![];
            for spec in &self.job_specs {
                if let Some(job) = context.shell.jobs_mut().resolve_job_spec(spec) {
                    ids.push(job.id);
                } else {
                    writeln!(
                        context.stderr(),
                        "{}: {spec}: no such job",
                        context.command_name
                    )?;
                    result = ExecutionResult::general_error();
                }
            }
            ids
        };
        for id in ids {
            if let Some(job) = context.shell.jobs().jobs.iter().find(|job| job.id == id) {
                self.display_job(&context, job)?;
            }
        }

        Ok(result)
    }
}

impl JobsCommand {
    fn display_job(
        &self,
        context: &brush_core::ExecutionContext<'_, impl brush_core::ShellExtensions>,
        job: &jobs::Job,
    ) -> Result<(), brush_core::Error> {
        if self.running_jobs_only && !matches!(job.state, jobs::JobState::Running) {
            return Ok(());
        }
        if self.stopped_jobs_only && !matches!(job.state, jobs::JobState::Stopped) {
            return Ok(());
        }

        if self.show_pids_only {
            if let Some(pid) = job.representative_pid() {
                writeln!(context.stdout(), "{pid}")?;
            }
        } else if self.also_show_pids {
            let pid = job
                .representative_pid()
                .map_or_else(String::new, |pid| pid.to_string());
            writeln!(
                context.stdout(),
                "[{}]{:3}{pid:>5} {}\t{}",
                job.id,
                job.annotation().to_string(),
                job.state,
                job.command_line
            )?;
        } else {
            writeln!(context.stdout(), "{job}")?;
        }

        Ok(())
    }
}
