//! `greenbench meters`: which energy sources work here, why not, and how to fix it.

use std::time::Duration;

use greenbench_meter::{MeterOptions, DEFAULT_POWERCAP_ROOT};

/// How long the power reading of each available source lasts.
const READING: Duration = Duration::from_secs(1);

/// Arguments of `greenbench meters`.
#[derive(clap::Args)]
pub struct MetersArgs {
    /// Powercap (RAPL) sysfs root.
    #[arg(long, default_value = DEFAULT_POWERCAP_ROOT)]
    powercap_root: std::path::PathBuf,
    /// NVML index of the GPU.
    #[arg(long, default_value_t = 0)]
    gpu_index: u32,
    /// Watts per busy core for the CPU estimate, above 0 and at most 50.
    #[arg(long, value_parser = crate::cmd::worker::parse_watts_per_core, allow_negative_numbers = true)]
    watts_per_core: Option<f64>,
    /// Print a JSON array of objects with keys source, available, quality, reason (and fix,
    /// power_w where they apply; power_w is the mean watts over a 1 s reading).
    #[arg(long)]
    json: bool,
}

/// Probes every source, with a one-second power reading where available, and prints a table
/// with a header and a note on what each column and reading means.
pub fn run(a: MetersArgs) -> anyhow::Result<()> {
    let options = MeterOptions {
        powercap_root: a.powercap_root,
        gpu_index: a.gpu_index,
        watts_per_core: a.watts_per_core,
    };
    let statuses = greenbench_meter::probe_for(&options, READING);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
    } else {
        print!("{}", greenbench_meter::render_text(&statuses, READING));
        let model = greenbench_meter::cpu_model();
        println!("{}", greenbench_meter::calibration_status(model.as_deref()));
    }
    Ok(())
}
