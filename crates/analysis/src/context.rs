//! What every part of a report reads: the ok runs, the energy basis chosen for them, its
//! quality label and the carbon settings. Built once per report and passed by reference.

use greenbench_core::RunRecord;

use crate::carbon::CarbonSettings;
use crate::data::{self, EnergyBasis};

/// The ok runs and how their energy is read, for every section, table and export.
#[derive(Debug, Clone)]
pub struct ReportContext<'a> {
    /// Runs with status ok (the statistics' input).
    pub runs: &'a [&'a RunRecord],
    /// Energy basis used throughout.
    pub basis: EnergyBasis,
    /// Quality label of the training energies under `basis`.
    pub quality: String,
    /// Carbon settings.
    pub carbon: &'a CarbonSettings,
}

impl<'a> ReportContext<'a> {
    /// The context of `runs`: the basis [`EnergyBasis::choose`] picks and its quality label.
    pub fn new(runs: &'a [&'a RunRecord], carbon: &'a CarbonSettings) -> Self {
        let basis = EnergyBasis::choose(runs);
        let quality =
            data::quality_label(runs.iter().map(|r| basis.train(r).and_then(|e| e.quality)));
        ReportContext {
            runs,
            basis,
            quality,
            carbon,
        }
    }
}
