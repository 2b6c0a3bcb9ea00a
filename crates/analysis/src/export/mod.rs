//! Exports: `runs.csv` (flat, one row per run), `summary.md` (per-model table) and a
//! CodeCarbon-compatible `emissions.csv`.

pub mod codecarbon;
pub mod csv;
pub mod markdown;
