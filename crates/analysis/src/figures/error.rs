//! Why a figure was skipped or could not be drawn, and why a figure width does not parse.

/// A figure's error. A figure's `prepare` returns one of the first group when the data it needs
/// is absent: the figure is then skipped and the report prints this text after "skipped:"
/// (reports are compared byte for byte, so the texts must not change). Drawing errors stop the
/// report; width errors are what `--figure-width` prints.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FigureError {
    /// Skipped: no run ended ok.
    #[error("no ok runs")]
    NoOkRuns,
    /// Skipped: no run has an average power per component.
    #[error("no run recorded average power per component")]
    NoComponentPower,
    /// Skipped: no run has a utilisation together with an average power.
    #[error(
        "no run recorded utilisation together with average power (gpu_util_mean/cpu_util_mean)"
    )]
    NoUtilisation,
    /// Skipped: no run recorded per-epoch figures.
    #[error("no run recorded per-epoch figures")]
    NoEpochs,
    /// Skipped: fewer than two models have MACs per parameter and a positive energy.
    #[error("{found} model(s) with MACs/param and positive energy; need ≥ 2")]
    TooFewModels {
        /// Models that have both.
        found: usize,
    },
    /// Skipped: no model ran two batch sizes in the same setting.
    #[error("every model ran a single batch size")]
    SingleBatchSize,
    /// Skipped: fewer than two configurations have an accuracy and a positive energy.
    #[error("{found} configuration(s) with accuracy and positive energy; need ≥ 2")]
    TooFewConfigurations {
        /// Configurations that have both.
        found: usize,
    },
    /// Skipped: the estimator was not cross-validated, for the reason given.
    #[error("no cross-validated predictions: {why}")]
    NoPredictions {
        /// Why there are none (from the estimator).
        why: String,
    },
    /// Skipped: fewer than two cross-validated predictions with a positive energy.
    #[error("{found} cross-validated prediction(s) with positive energy; the figure needs ≥ 2")]
    TooFewPredictions {
        /// Predictions with a positive predicted and measured energy.
        found: usize,
    },
    /// Skipped: the sweep is not a search.
    #[error("not a search (a grid sweep trains every configuration to the same epochs)")]
    NotASearch,
    /// Skipped: no configuration of the search has a curve to draw.
    #[error("no configuration recorded per-epoch validation accuracy with energy")]
    NoSearchCurves,
    /// A scatter plot has no finite point to set its axes by.
    #[error("no finite points to draw")]
    NoFinitePoints,
    /// plotters could not draw or write the figure: its message (plotters' errors are generic
    /// over the backend, so only their text is kept).
    #[error("{0}")]
    Draw(String),
    /// A figure width without a unit.
    #[error(
        "figure width `{text}`: give a unit, e.g. 3.5in (single column), 7in (double column), 88mm"
    )]
    WidthUnit {
        /// The width given.
        text: String,
    },
    /// A figure width whose number does not parse.
    #[error("figure width `{text}`: `{number}` is not a number")]
    WidthNumber {
        /// The width given.
        text: String,
        /// Its number, without the unit.
        number: String,
    },
    /// A figure width outside 1–20 inches.
    #[error("figure width `{text}` is {inches:.2} in; use 1–20 in (3.5in single column, 7in double column)")]
    WidthRange {
        /// The width given.
        text: String,
        /// That width in inches.
        inches: f64,
    },
    /// An SVG figure that does not parse (layout check).
    #[error("figure SVG does not parse: {0}; draw it again with `greenbench report`")]
    SvgParse(String),
}
