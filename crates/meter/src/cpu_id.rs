//! What can be known about this machine's CPU from `/proc/cpuinfo`: the model name, the vendor,
//! the cpuid family and model numbers, whether it has 512-bit vectors, whether it runs under a
//! hypervisor, and how many logical CPUs share its package.

/// The CPU as `/proc/cpuinfo` describes it (first processor entry).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuId {
    /// `model name`, e.g. "AMD EPYC 7763 64-Core Processor" or "Intel(R) Xeon(R) Processor".
    pub model_name: Option<String>,
    /// `vendor_id`: "GenuineIntel", "AuthenticAMD", …
    pub vendor: Option<String>,
    /// `cpu family` (cpuid display family).
    pub family: Option<u32>,
    /// `model` (cpuid display model).
    pub model: Option<u32>,
    /// Whether the flags list `avx512f` (512-bit vectors).
    pub avx512: bool,
    /// Whether the flags list `hypervisor` (a virtual machine: topology fields describe the VM).
    pub hypervisor: bool,
    /// `siblings`: logical CPUs per package, as the kernel sees the package.
    pub siblings: Option<u32>,
}

impl CpuId {
    /// Reads `/proc/cpuinfo`; an empty description when it cannot be read.
    pub fn here() -> CpuId {
        std::fs::read_to_string("/proc/cpuinfo")
            .map(|t| CpuId::parse(&t))
            .unwrap_or_default()
    }

    /// Parses the first processor entry of a `/proc/cpuinfo` text.
    pub fn parse(text: &str) -> CpuId {
        let mut id = CpuId::default();
        for line in text.lines() {
            if line.trim().is_empty() {
                break; // the end of the first processor's entry
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "model name" => id.model_name = Some(value.to_string()),
                "vendor_id" => id.vendor = Some(value.to_string()),
                "cpu family" => id.family = value.parse().ok(),
                "model" => id.model = value.parse().ok(),
                "siblings" => id.siblings = value.parse().ok(),
                "flags" => {
                    let mut flags = value.split_ascii_whitespace();
                    id.avx512 = flags.clone().any(|f| f == "avx512f");
                    id.hypervisor = flags.any(|f| f == "hypervisor");
                }
                _ => {}
            }
        }
        id
    }

    /// "Intel family 6 model 207, AVX-512, virtual machine": what identified the CPU.
    pub fn describe(&self) -> String {
        let vendor = match self.vendor.as_deref() {
            Some("GenuineIntel") => "Intel",
            Some("AuthenticAMD") => "AMD",
            Some(v) => v,
            None => "unknown vendor",
        };
        let num = |v: Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
        format!(
            "{vendor} family {} model {}, {}{}",
            num(self.family),
            num(self.model),
            if self.avx512 { "AVX-512" } else { "no AVX-512" },
            if self.hypervisor {
                ", virtual machine"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_entry_of_a_vm_cpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 207\n\
                    model name\t: Intel(R) Xeon(R) Processor\nsiblings\t: 2\n\
                    flags\t\t: fpu avx2 avx512f hypervisor\n\nprocessor\t: 1\nmodel\t\t: 1\n";
        let id = CpuId::parse(text);
        assert_eq!(id.family, Some(6));
        assert_eq!(id.model, Some(207));
        assert!(id.avx512 && id.hypervisor);
        assert_eq!(id.siblings, Some(2));
        assert_eq!(
            id.describe(),
            "Intel family 6 model 207, AVX-512, virtual machine"
        );
    }
}
