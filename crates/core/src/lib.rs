//! greenbench-core: the vocabulary every other greenbench crate speaks.
//!
//! Its modules are private; everything other crates use is re-exported here: units
//! ([`Joules`], [`Seconds`], [`Watts`]), energy components and measurement quality
//! ([`Component`], [`ComponentEnergy`], [`Quality`]), the sweep configuration with located
//! validation errors ([`SweepConfig`]), the closed sets a config chooses from ([`Optimizer`],
//! [`Schedule`], [`DeviceName`], ...), the run spec and its stable run id ([`RunSpec`]), the
//! record written for every run ([`RunRecord`], read back with [`read_records`]), grid carbon
//! intensity ([`GridIntensity`]), what else the machine did during a run ([`Interference`]), a
//! halving search's choice ([`promote`]) and the energy a configuration spent ([`Spent`]), the
//! parent ↔ worker protocol ([`WorkerRequest`], [`WorkerEvent`]) and the interfaces between the
//! crates that run a sweep and the one that meters it ([`PhaseMeter`], [`PowerCap`],
//! [`Catalog`]), and the most power a machine can draw ([`implausible_power`]). No candle here.

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
mod grid;
mod grid_error;
mod human_duration;
mod interference;
mod manifest;
mod metering;
mod phase_figures;
mod power_bound;
mod protocol;
mod record;
mod resolution;
mod rng;
mod search;
mod shard;
mod spec;
mod spent;
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
pub use flag::Flag;
pub use grid::{
    country_intensity, country_table, parse_timestamp, CountryIntensity, GridIntensity,
    IntensitySeries, COUNTRY_TABLE_SOURCE,
};
pub use grid_error::{GridError, IntensityRowError};
pub use human_duration::human_duration;
pub use interference::{
    parse_load_avg, CpuTimes, Interference, QuietGate, FIELD as INTERFERENCE_FIELD,
};
pub use manifest::Manifest;
pub use metering::{PhaseMeter, PowerCap, TraceStats};
pub use power_bound::{implausible_power, MachineSize, IMPLAUSIBLE_POWER, MAX_WATTS_PER_CORE};
pub use protocol::{
    Outcome, Phase, WorkerEvent, WorkerRequest, WorkerResult, AUTO_SPIN_US, FAULT_ENV,
    POOL_SPIN_ENV, QUIET_PRESSURE, SCHED_SLICE_ENV,
};
pub use record::{
    one_per_run_id, parse_record, read_record_lines, read_records, Attempt, CarbonRecord,
    EpochRecord, HostInfo, InferenceRecord, ModelInfo, PartialEpoch, RecordLine, RunRecord,
    RunStatus, TrainRecord, SCHEMA_VERSION,
};
pub use resolution::short_window;
pub use rng::{shuffle, SplitMix64};
pub use search::{keep_count, next_rung, promote, unranked, Candidate};
pub use shard::{Shard, ShardParseError};
pub use spec::{Continuation, RunSpec};
pub use spent::{configuration_train_j, rungs_up_to, Spent};
pub use units::{Joules, Seconds, Watts};
pub use workload_events::{parse_line, CommandEvent, Metrics, PREFIX as WORKLOAD_EVENT_PREFIX};
