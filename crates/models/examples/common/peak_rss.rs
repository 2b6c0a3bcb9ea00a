//! The process's peak resident memory (Linux `VmHWM`), with a reset so that one process can
//! report a peak per measured row.

/// Resets the peak to the current resident size (writes `5` to `/proc/self/clear_refs`).
/// Returns false where the kernel refuses it (not Linux, or no permission): the next peak is
/// then the whole process's.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The peak resident memory since start-up or the last successful [`reset_peak`], in MB
/// (10⁶ bytes); `None` where `/proc/self/status` has no `VmHWM` line.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:` line of a `/proc/<pid>/status` text (in kB) as MB.
fn parse_vm_hwm(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::parse_vm_hwm;

    #[test]
    fn reads_vm_hwm_in_mb() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t  1000000 kB\nVmRSS:\t  5 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1024.0));
        assert_eq!(parse_vm_hwm("VmRSS:\t5 kB\n"), None);
    }
}
