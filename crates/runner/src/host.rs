//! What machine this is, for records and manifests.

use greenbench_core::HostInfo;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// This machine's host name (empty when /proc does not tell).
pub fn hostname() -> String {
    read("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Describes this host from /proc (fields it cannot read are left empty or 0, never guessed);
/// `cpu_kernels` is the vector width the models' CPU kernels use here.
pub fn host_info(candle_version: &str, cpu_kernels: &str) -> HostInfo {
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| {
            l.starts_with("model name") || l.starts_with("Model") || l.starts_with("CPU part")
        })
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gb = read("/proc/meminfo")
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    let os = format!(
        "{} {}",
        std::env::consts::OS,
        read("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    );
    HostInfo {
        cpu_model,
        cores,
        mem_gb,
        gpu: None,
        os: os.trim().to_string(),
        hostname: hostname(),
        greenbench_version: env!("CARGO_PKG_VERSION").to_string(),
        candle_version: candle_version.to_string(),
        cpu_kernels: cpu_kernels.to_string(),
    }
}
