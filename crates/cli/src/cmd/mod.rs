//! One module per subcommand.

pub mod calibrate;
pub mod datasets;
pub mod exec;
pub mod external_run;
pub mod merge;
pub mod meters;
pub mod models;
pub mod predict;
pub mod report;
pub mod slurm;
pub mod status;
pub mod sweep;
pub mod validate;
pub mod worker;
