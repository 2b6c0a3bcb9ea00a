//! Checking a config's `[workload]` table: a command to run, placeholders that name axes, free
//! axes that do not shadow the grid's and hold plain values. A workload's model and dataset
//! names are labels for its own command, so the zoo and the data registry do not check them.

use super::raw::key_in;
use super::workload::{axis_value, placeholders};
use super::{PendingError, SweepConfig, AXES};
use crate::catalog::Catalog;
use crate::device::DeviceName;
use crate::error::BoxError;

/// The catalog an external workload's config is checked against: any model and dataset name
/// (they are labels passed to the command), devices as the machine's catalog says.
pub(super) struct ExternalCatalog<'a>(pub &'a dyn Catalog);

impl Catalog for ExternalCatalog<'_> {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_device(&self, device: DeviceName) -> Result<(), BoxError> {
        self.0.check_device(device)
    }
}

/// Names a placeholder may use besides the workload's own axes: every key of a run spec that
/// holds a plain value.
const SPEC_KEYS: &[&str] = &[
    "model",
    "dataset",
    "dataset_path",
    "subset",
    "validation",
    "test_subset",
    "batch_size",
    "lr",
    "optimizer",
    "momentum",
    "weight_decay",
    "schedule",
    "lr_warmup_epochs",
    "bn_recalibration_samples",
    "epochs",
    "device",
    "threads",
    "seed",
    "repeat",
    "precision",
    "warmup_batches",
    "replicate_test",
    "power_limit_w",
];

impl SweepConfig {
    /// Errors of the `[workload]` table, if the config has one.
    pub(super) fn check_workload(&self, errs: &mut Vec<PendingError>) {
        let Some(w) = &self.workload else { return };
        let at = |key: &str| {
            self.workload_span
                .as_ref()
                .and_then(|s| key_in(&self.text, s, key))
                .or_else(|| self.workload_span.clone())
        };
        if w.command.first().is_none_or(|p| p.trim().is_empty()) {
            errs.push((
                "workload.command".into(),
                at("command"),
                "the command is empty".into(),
                Some(
                    "give the program and its arguments, e.g. command = [\"python3\", \"train.py\", \"--lr\", \"{lr}\"]"
                        .into(),
                ),
            ));
        }
        for (name, values) in &w.axes {
            let field = format!("workload.axes.{name}");
            if AXES.contains(&name.as_str()) || SPEC_KEYS.contains(&name.as_str()) {
                errs.push((
                    field.clone(),
                    at(name),
                    format!("`{name}` is an axis of the sweep itself, not of the command"),
                    Some(format!(
                        "write `{name}` under [grid] (the command reads it as {{{name}}}), or rename this axis"
                    )),
                ));
            }
            if values.0.is_empty() {
                errs.push((
                    field.clone(),
                    at(name),
                    "the list is empty".into(),
                    Some("give at least one value".into()),
                ));
            }
            if let Some(bad) = values.0.iter().find(|v| axis_value(v).is_none()) {
                errs.push((
                    field,
                    at(name),
                    format!("`{bad}` is not a text, number or boolean"),
                    Some("a command option takes plain values: \"a\", 1, 0.5, true".into()),
                ));
            }
        }
        let known = |n: &str| SPEC_KEYS.contains(&n) || w.axes.contains_key(n);
        let texts = w
            .command
            .iter()
            .map(|a| ("workload.command", "command", a))
            .chain(w.env.values().map(|v| ("workload.env", "env", v)));
        for (field, key, text) in texts {
            match placeholders(text) {
                Err(why) => errs.push((
                    field.into(),
                    at(key),
                    why.to_string(),
                    Some(
                        "a placeholder is `{name}` of a sweep axis or a [workload.axes] key".into(),
                    ),
                )),
                Ok(names) => {
                    for n in names.iter().filter(|n| !known(n)) {
                        errs.push((
                            field.into(),
                            at(key),
                            format!("placeholder `{{{n}}}` in `{text}` names no axis"),
                            Some(format!(
                                "use a sweep axis ({}) or add `{n} = [...]` under [workload.axes]",
                                SPEC_KEYS.join(", ")
                            )),
                        ));
                    }
                }
            }
        }
    }
}
