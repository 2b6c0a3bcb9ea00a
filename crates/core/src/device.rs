//! Where a run computes: the device names a config may write (`cpu`, `cuda:N`), parsed in one
//! place for the config check, the trainer, the meter and the GPU power cap.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::BoxError;

/// A device a run trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceName {
    /// The CPU (threads from the spec's `threads`).
    Cpu,
    /// CUDA GPU number N, in PCI bus order (`CUDA_DEVICE_ORDER=PCI_BUS_ID`, as NVML counts).
    Cuda(u32),
}

impl DeviceName {
    /// Parses `cpu` or `cuda:N` (surrounding spaces ignored); the error says what is accepted.
    pub fn parse(s: &str) -> Result<DeviceName, BoxError> {
        let s = s.trim();
        if s == "cpu" {
            return Ok(DeviceName::Cpu);
        }
        let Some(index) = s.strip_prefix("cuda:") else {
            return Err(
                format!("unknown device `{s}`; accepted: cpu, cuda:N (N = GPU index)").into(),
            );
        };
        index
            .parse::<u32>()
            .map(DeviceName::Cuda)
            .map_err(|_| format!("`{index}` is not a GPU index; write cuda:0, cuda:1, …").into())
    }

    /// The GPU's index (NVML's and CUDA's), `None` on the CPU.
    pub fn gpu_index(self) -> Option<u32> {
        match self {
            DeviceName::Cpu => None,
            DeviceName::Cuda(i) => Some(i),
        }
    }
}

impl std::fmt::Display for DeviceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceName::Cpu => f.write_str("cpu"),
            DeviceName::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl std::str::FromStr for DeviceName {
    type Err = BoxError;
    fn from_str(s: &str) -> Result<Self, BoxError> {
        DeviceName::parse(s)
    }
}

/// Written as its name (`cpu`, `cuda:0`), as specs and records always held it.
impl Serialize for DeviceName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DeviceName::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_cuda_n_parse_and_print_back() {
        for s in ["cpu", "cuda:0", "cuda:7"] {
            assert_eq!(DeviceName::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(DeviceName::parse(" cuda:3 ").unwrap().gpu_index(), Some(3));
        assert_eq!(DeviceName::parse("cpu").unwrap().gpu_index(), None);
        let e = |s| DeviceName::parse(s).unwrap_err().to_string();
        assert!(e("tpu").contains("accepted: cpu, cuda:N"), "{}", e("tpu"));
        assert!(e("cuda").contains("accepted: cpu, cuda:N"));
        assert!(e("cuda:x").contains("`x` is not a GPU index"));
        assert!(e("cuda:-1").contains("not a GPU index"));
    }
}
