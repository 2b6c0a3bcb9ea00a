//! What a configuration may name: models, datasets and devices.
//!
//! The core crate does not know the model zoo or the data registry; the binary passes an
//! implementation of [`Catalog`] to [`crate::SweepConfig::validate`].

/// The names a sweep configuration is checked against.
pub trait Catalog {
    /// Known model names (as written in configs).
    fn models(&self) -> Vec<String>;
    /// Known dataset names.
    fn datasets(&self) -> Vec<String>;
    /// `Ok` if this build and machine can run on `device` (e.g. `cpu`, `cuda:0`), else why not.
    fn check_device(&self, device: &str) -> Result<(), String>;
}

/// A catalog that accepts every model, dataset and device; for tests and tools that only parse.
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptAll;

impl Catalog for AcceptAll {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_device(&self, _device: &str) -> Result<(), String> {
        Ok(())
    }
}
