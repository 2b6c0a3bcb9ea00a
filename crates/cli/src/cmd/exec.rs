//! `greenbench exec [--out DIR] -- CMD ARGS…`: one command metered exactly like one run of a
//! sweep. It is a sweep of one run: a config with a `[workload]` holding the command is written
//! into the folder (`exec.toml`) and run, so the folder has a manifest, an idle baseline, a
//! trace and a record in `runs.jsonl` that `report`, `status` and `merge` read as any other.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cmd::sweep::SweepArgs;
use crate::cmd::worker::MeterSettings;

/// Arguments of `greenbench exec`.
#[derive(clap::Args)]
pub struct ExecArgs {
    /// Output folder (default: results/exec-PROGRAM-YYYYMMDD-HHMMSS/). A folder that already
    /// holds this very command's record is left as it is.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Sweep name of the record (default: exec-PROGRAM).
    #[arg(long)]
    name: Option<String>,
    /// Seconds of idle power measured before the command (0: none, so no net energy).
    #[arg(long, default_value_t = 5.0)]
    idle_seconds: f64,
    /// Kill the command after this many seconds (recorded as timeout).
    #[arg(long)]
    timeout: Option<f64>,
    #[command(flatten)]
    meter: MeterSettings,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    command: Vec<String>,
}

/// The config of a one-run sweep executing `command`.
fn config_text(name: &str, command: &[String], idle_seconds: f64, timeout: Option<f64>) -> String {
    let program = program_name(command);
    // Quoted as JSON strings (valid TOML basic strings); braces doubled, since a workload's
    // command reads `{name}` as a placeholder.
    let quote = |s: &str| {
        serde_json::to_string(&s.replace('{', "{{").replace('}', "}}")).unwrap_or_default()
    };
    let argv: Vec<String> = command.iter().map(|a| quote(a)).collect();
    let timeout = timeout
        .map(|t| format!("run_timeout = {t:?}\n"))
        .unwrap_or_default();
    format!(
        "# Written by `greenbench exec`: one run of the command below, metered like a sweep's run.\n\
         # model is the program's name; dataset and batch_size are labels the record needs.\n\
         name = {}\nmodel = {}\ndataset = \"command\"\nbatch_size = 1\nthreads = 1\n\
         warmup_batches = 0\nidle_seconds = {idle_seconds:?}\n{timeout}\n[workload]\ncommand = [{}]\n",
        serde_json::to_string(name).unwrap_or_default(),
        serde_json::to_string(&program).unwrap_or_default(),
        argv.join(", ")
    )
}

/// The program's file name (`python3` for `/usr/bin/python3`), usable in a folder name.
fn program_name(command: &[String]) -> String {
    let first = command.first().map(String::as_str).unwrap_or("command");
    let base = std::path::Path::new(first)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(first);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        "command".into()
    } else {
        clean
    }
}

/// Runs the command as a one-run sweep; the exit code is the sweep's (3 when the command did
/// not exit 0, 130 when interrupted).
pub fn run(a: ExecArgs) -> anyhow::Result<ExitCode> {
    if a.idle_seconds < 0.0 || !a.idle_seconds.is_finite() {
        bail!(
            "--idle-seconds {} is not a duration: give 0 or more seconds",
            a.idle_seconds
        );
    }
    let program = program_name(&a.command);
    let name = a.name.clone().unwrap_or_else(|| format!("exec-{program}"));
    let out = a.out.clone().unwrap_or_else(|| {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        PathBuf::from("results").join(format!("exec-{program}-{stamp}"))
    });
    std::fs::create_dir_all(&out)
        .with_context(|| format!("creating the output folder {}", out.display()))?;
    let config = out.join("exec.toml");
    let text = config_text(&name, &a.command, a.idle_seconds, a.timeout);
    match std::fs::read_to_string(&config) {
        Ok(old) if old != text => bail!(
            "{} holds the record of another command (see its exec.toml); give another --out",
            out.display()
        ),
        Ok(_) => {}
        Err(_) => std::fs::write(&config, &text)
            .with_context(|| format!("writing {}", config.display()))?,
    }
    crate::cmd::sweep::run(SweepArgs::for_exec(config, out, a.meter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_quotes_the_command_and_keeps_its_braces_literal() {
        let cmd: Vec<String> = ["/usr/bin/python3", "-c", "print({'a': \"b\"})"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let text = config_text("exec-python3", &cmd, 0.0, Some(2.5));
        let cfg = greenbench_core::SweepConfig::parse(&text, "exec.toml".as_ref()).unwrap();
        cfg.validate(&greenbench_core::AcceptAll).unwrap();
        let runs = cfg.expand();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].model, "python3");
        assert_eq!(runs[0].timeout_s, Some(2.5));
        assert_eq!(runs[0].workload.as_ref().unwrap().command, cmd);
    }
}
