//! greenbench-core: the vocabulary every other greenbench crate speaks.
//!
//! Units ([`units`]), energy components and measurement quality ([`energy`]), the sweep
//! configuration schema with located validation errors ([`config`]), the closed sets a config
//! chooses from ([`choices`], [`device`]), the run spec and its stable run id ([`spec`]), the
//! record written for every run ([`record`]), grid carbon intensity ([`grid`]), the parent ↔
//! worker protocol ([`protocol`]) and the interfaces between the crates that run a sweep and the
//! one that meters it ([`metering`], [`catalog`]), and the most power a machine can draw
//! ([`power_bound`]). No candle here.

mod carbon;
mod catalog;
mod choices;
mod command_record;
mod compact_number;
mod config;
mod device;
mod energy;
mod error;
mod external_run;
mod flag;
// Public while analysis still reaches items through this module's path.
pub mod grid;
mod grid_error;
mod human_duration;
// Public while analysis still reaches items through this module's path.
pub mod interference;
mod manifest;
mod metering;
mod power_bound;
mod protocol;
// Public while analysis still reaches items through this module's path.
pub mod record;
mod resolution;
// Public while analysis still reaches items through this module's path.
pub mod rng;
// Public while analysis still reaches items through this module's path.
pub mod search;
mod shard;
mod spec;
// Public while analysis still reaches items through this module's path.
pub mod spent;
mod units;
mod workload_events;

pub use carbon::{config_dir, CarbonError, ResolvedCarbon, ResolvedIntensity};
pub use catalog::{AcceptAll, Catalog, DatasetSizes};
pub use choices::{Choice, Family, Optimizer, Precision, RunOrder, Schedule, UnknownChoice};
pub use command_record::CommandRecord;
pub use compact_number::compact_number;
pub use config::{
    axis_values, Axis, Budget, CarbonConfig, LrScaling, Objective, ScalingRule, SearchConfig,
    Strategy, SweepConfig, AXES,
};
pub use device::DeviceName;
pub use energy::{Component, ComponentEnergy, ComponentPower, EnergyReading, Quality};
pub use error::{io as io_error, BoxError, ConfigError, CoreError, IoError, RecordError};
pub use external_run::{ExternalRun, EVENTS_ENV};
pub use grid_error::{GridError, IntensityRowError};
pub use human_duration::human_duration;
pub use manifest::Manifest;
pub use metering::{PhaseMeter, PowerCap, TraceStats};
pub use power_bound::{implausible_power, MachineSize, IMPLAUSIBLE_POWER, MAX_WATTS_PER_CORE};
pub use protocol::{Outcome, Phase, WorkerEvent, WorkerRequest, WorkerResult, FAULT_ENV};
pub use record::{RunRecord, RunStatus, SCHEMA_VERSION};
pub use resolution::short_window;
pub use shard::{Shard, ShardParseError};
pub use spec::{Continuation, RunSpec};
pub use spent::Spent;
pub use units::{Joules, Seconds, Watts};
pub use workload_events::{parse_line, CommandEvent, Metrics, PREFIX as WORKLOAD_EVENT_PREFIX};
