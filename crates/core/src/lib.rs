//! greenbench-core: the vocabulary every other greenbench crate speaks.
//!
//! Units ([`units`]), energy components and measurement quality ([`energy`]), the sweep
//! configuration schema with located validation errors ([`config`]), the closed sets a config
//! chooses from ([`choices`], [`device`]), the run spec and its stable run id ([`spec`]), the
//! record written for every run ([`record`]), grid carbon intensity ([`grid`]), the parent ↔
//! worker protocol ([`protocol`]) and the interfaces between the crates that run a sweep and the
//! one that meters it ([`metering`], [`catalog`]), and the most power a machine can draw
//! ([`power_bound`]). No candle here.

pub mod carbon;
pub mod catalog;
pub mod choices;
pub mod command_record;
pub mod compact_number;
pub mod config;
pub mod device;
pub mod energy;
pub mod error;
pub mod external_run;
pub mod flag;
pub mod grid;
pub mod grid_error;
pub mod human_duration;
pub mod interference;
pub mod manifest;
pub mod metering;
pub mod power_bound;
pub mod protocol;
pub mod record;
pub mod resolution;
pub mod rng;
pub mod search;
pub mod shard;
pub mod spec;
pub mod spent;
pub mod units;
pub mod workload_events;

pub use carbon::{CarbonError, ResolvedCarbon, ResolvedIntensity};
pub use catalog::{Catalog, DatasetSizes};
pub use choices::{Choice, Family, Optimizer, Precision, RunOrder, Schedule, UnknownChoice};
pub use command_record::CommandRecord;
pub use compact_number::compact_number;
pub use config::{Axis, Budget, CarbonConfig, Objective, SearchConfig, Strategy, SweepConfig};
pub use device::DeviceName;
pub use energy::{Component, ComponentEnergy, ComponentPower, EnergyReading, Quality};
pub use error::{BoxError, ConfigError, CoreError, IoError, RecordError};
pub use grid_error::{GridError, IntensityRowError};
pub use human_duration::human_duration;
pub use manifest::Manifest;
pub use metering::{PhaseMeter, PowerCap, TraceStats};
pub use record::{RunRecord, RunStatus, SCHEMA_VERSION};
pub use shard::{Shard, ShardParseError};
pub use spec::{Continuation, RunSpec};
pub use spent::Spent;
pub use units::{Joules, Seconds, Watts};
