//! Errors of the meter crate. Every message says what failed, where (path, device), and what to do.

use std::path::PathBuf;

use greenbench_core::IoError;

/// The one-line fix printed when RAPL's `energy_uj` is not readable.
pub const RAPL_PERMISSION_FIX: &str =
    "run as root, or `sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj` \
(or a udev rule that does this at boot), or accept the CPU-time estimate";

/// Everything that can go wrong while metering.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    /// The powercap root does not exist (typical for virtual machines).
    #[error("RAPL unavailable: no {path} on this machine (virtual machines usually have no RAPL); the CPU-time estimate is used instead")]
    NoPowercap {
        /// The powercap root that was looked at.
        path: PathBuf,
    },
    /// The powercap tree exists but holds no RAPL package domain.
    #[error("RAPL unavailable: {path} has no intel-rapl:N or amd-rapl:N package domain; load the `intel_rapl_common` kernel module or accept the estimate")]
    NoRaplDomain {
        /// The powercap root.
        path: PathBuf,
    },
    /// `energy_uj` exists but is root-only (CVE-2020-8694). Never read as 0.
    #[error("RAPL unavailable: permission denied reading {path} (energy_uj is root-only since CVE-2020-8694); fix: {RAPL_PERMISSION_FIX}")]
    PermissionDenied {
        /// The unreadable file.
        path: PathBuf,
    },
    /// A file could not be read (or, for the pending power-limit file, written). The OS error
    /// is part of the message, not a separate cause.
    #[error("cannot read {} at {}: {}; check that the file exists and is readable", .0.what, .0.path.display(), .0.source)]
    Io(IoError),
    /// A file held something that is not the expected number.
    #[error("cannot parse {what} at {path}: {detail}; the kernel interface may have changed, please report it")]
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// The sysfs file or folder (under the powercap root) that was read.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// An energy counter decreased and the decrease cannot be a wrap.
    #[error("energy counter {path} went backwards from {previous} to {current} without a plausible wrap ({detail}); the energy of this window is marked missing — if it repeats, the counter was reset (driver reload?)")]
    CounterBackwards {
        /// The counter (file or device).
        path: String,
        /// Previous raw value.
        previous: u64,
        /// Current raw value.
        current: u64,
        /// Why it is not a wrap.
        detail: String,
    },
    /// An energy counter increased by more than the hardware can draw in the time since the
    /// previous read.
    #[error("energy counter {path} jumped from {previous} to {current} ({detail}); the energy of this window is marked missing — if it repeats, the counter is faulty")]
    CounterJump {
        /// The counter (file or device).
        path: String,
        /// Previous raw value.
        previous: u64,
        /// Current raw value.
        current: u64,
        /// The implied power and the limit.
        detail: String,
    },
    /// NVML could not be loaded or initialised, or the GPU index does not exist.
    #[error("NVML unavailable: {reason}")]
    NvmlUnavailable {
        /// Plain-words reason, ending with what to do.
        reason: String,
    },
    /// A GPU power limit could not be read or set.
    #[error("{gpu}: power limit: {reason}")]
    PowerLimit {
        /// The GPU as NVML names it (index and name).
        gpu: String,
        /// Why, and what to do.
        reason: String,
    },
    /// An NVML call failed on a device that was working.
    #[error("NVML call {call} failed on GPU {index}: {reason}; check `nvidia-smi` and the driver")]
    Nvml {
        /// The NVML function.
        call: &'static str,
        /// GPU index.
        index: u32,
        /// NVML's message.
        reason: String,
    },
    /// A GPU that was metering stopped giving the reading its mode needs.
    #[error("{device}: {detail}; the GPU energy of this window is marked missing")]
    Gpu {
        /// The device description.
        device: String,
        /// What stopped working.
        detail: String,
    },
    /// A replayed GPU trace is malformed or exhausted.
    #[error("replay trace {origin}: {detail}")]
    Replay {
        /// Where the trace came from (path or "in-memory").
        origin: String,
        /// What is wrong (with line number when parsing).
        detail: String,
    },
    /// The trace CSV could not be written.
    #[error("cannot write trace CSV {path}: {source}; check that the directory exists and the disk is not full")]
    Trace {
        /// The trace path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The synchronize hook failed at a window edge.
    #[error("synchronize hook failed at window {edge}: {reason}; the window is not measured")]
    Sync {
        /// "begin" or "end".
        edge: &'static str,
        /// The hook's message.
        reason: String,
    },
    /// The sampler thread panicked or could not be started.
    #[error("sampler thread: {0}")]
    Sampler(String),
    /// Invalid option value.
    #[error("invalid meter option {name} = {value}: {expected}")]
    Option {
        /// The option.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
}

impl MeterError {
    /// The fix to show next to this error in `greenbench meters`, when there is a specific one.
    pub fn fix(&self) -> Option<String> {
        match self {
            MeterError::NoPowercap { .. } | MeterError::NoRaplDomain { .. } => Some(
                "none needed: the CPU-time estimate is used; on bare metal, load `intel_rapl_common`".into(),
            ),
            MeterError::PermissionDenied { .. } => Some(RAPL_PERMISSION_FIX.into()),
            MeterError::NvmlUnavailable { .. } => Some(
                "install the NVIDIA driver (libnvidia-ml.so.1 must load; check `nvidia-smi`), or measure without the GPU".into(),
            ),
            _ => None,
        }
    }

    /// Short reason without the fix, in plain words (for the probe's `reason`).
    pub fn reason(&self) -> String {
        match self {
            MeterError::NoPowercap { path } => format!(
                "no {} on this machine (virtual machines usually have no RAPL)",
                path.display()
            ),
            MeterError::PermissionDenied { path } => format!(
                "permission denied reading {} (energy_uj is root-only since CVE-2020-8694)",
                path.display()
            ),
            other => other.to_string(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = MeterError> = std::result::Result<T, E>;

impl MeterError {
    /// For `map_err`: the OS error of reading `what` at `path` as a [`MeterError::Io`].
    pub(crate) fn io(
        what: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let at = greenbench_core::io_error(what, path);
        move |source| MeterError::Io(at(source))
    }
}
