//! The input a dataset gives a model, from the data registry alone: what the catalog checks a
//! model against and what the planner sizes a run by.

use greenbench_models::InputSpec;

/// The input a dataset gives a model, from the registry alone (no loading).
pub fn dataset_input(name: &str) -> Option<InputSpec> {
    let info = greenbench_data::info(name)?;
    let text = info.is_text();
    Some(InputSpec {
        sample_shape: info.sample_shape.clone(),
        classes: info.classes,
        text,
    })
}
