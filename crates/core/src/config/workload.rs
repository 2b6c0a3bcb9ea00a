//! External workloads: a sweep whose runs are a command of the user's own (a PyTorch script, a
//! shell pipeline) instead of greenbench's models. The `[workload]` table of a config gives the
//! command as a template whose `{placeholders}` are the sweep's axes and the workload's own
//! free-form axes; each run's spec holds the command as resolved for that run.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::external_run::ExternalRun;

use crate::spec::RunSpec;

/// The `[workload]` table of a config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadTable {
    /// Program and arguments; `{name}` is replaced by the run's value of axis `name`.
    pub command: Vec<String>,
    /// Environment variables for the command (values may hold placeholders too).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The command's own axes: a value or a list of values each, swept like the grid's axes
    /// (innermost, in name order, before the repeats).
    #[serde(default)]
    pub axes: BTreeMap<String, super::Axis<toml::Value>>,
}

/// A free-form axis value as text for a placeholder and as JSON for the spec; `None` for a
/// value that is not a string, number or boolean.
pub fn axis_value(v: &toml::Value) -> Option<(String, serde_json::Value)> {
    match v {
        toml::Value::String(s) => Some((s.clone(), serde_json::Value::String(s.clone()))),
        toml::Value::Integer(i) => Some((i.to_string(), (*i).into())),
        toml::Value::Float(f) => Some((f.to_string(), serde_json::json!(f))),
        toml::Value::Boolean(b) => Some((b.to_string(), (*b).into())),
        _ => None,
    }
}

/// A command template whose braces do not pair up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlaceholderError {
    /// A `}` with no `{` before it.
    #[error("`{0}` has a `}}` without its `{{` (write `}}}}` for a literal brace)")]
    UnopenedBrace(String),
    /// A `{` with no `}` after it.
    #[error("`{0}` has a `{{` without its `}}` (write `{{{{` for a literal brace)")]
    UnclosedBrace(String),
}

/// The names a placeholder of `template` uses, in order (`{lr}` → `lr`); `{{` and `}}` are
/// literal braces.
pub fn placeholders(template: &str) -> Result<Vec<String>, PlaceholderError> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let after = &rest[i + 1..];
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            rest = &rest[i + 2..];
            continue;
        }
        if rest[i..].starts_with('}') {
            return Err(PlaceholderError::UnopenedBrace(template.to_string()));
        }
        let end = after
            .find('}')
            .ok_or_else(|| PlaceholderError::UnclosedBrace(template.to_string()))?;
        names.push(after[..end].trim().to_string());
        rest = &after[end + 1..];
    }
    Ok(names)
}

/// `template` with each `{name}` replaced by `values[name]` (every name must be there: check
/// with [`placeholders`] first; an unknown one is left as written).
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        if rest[i..].starts_with("{{") || rest[i..].starts_with("}}") {
            out.push_str(&rest[i..i + 1]);
            rest = &rest[i + 2..];
            continue;
        }
        let after = &rest[i + 1..];
        match (rest[i..].starts_with('{'), after.find('}')) {
            (true, Some(end)) => {
                let name = after[..end].trim();
                match values.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[i..i + end + 2]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[i..i + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The values a placeholder can name for `spec`: every text, number or boolean key of the
/// spec's JSON (`model`, `dataset`, `batch_size`, `lr`, `epochs`, `seed`, `repeat`, …).
pub fn spec_values(spec: &RunSpec) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(spec) {
        for (k, v) in fields {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            m.insert(k, text);
        }
    }
    m
}

impl WorkloadTable {
    /// The command of `spec` with the workload's own axes at `free` (one `(name, value)` per
    /// axis): placeholders filled from the spec and those axes.
    pub fn resolve(&self, spec: &RunSpec, free: &[(String, toml::Value)]) -> ExternalRun {
        let mut values = spec_values(spec);
        let mut axes = BTreeMap::new();
        for (name, v) in free {
            if let Some((text, json)) = axis_value(v) {
                values.insert(name.clone(), text);
                axes.insert(name.clone(), json);
            }
        }
        ExternalRun {
            command: self.command.iter().map(|a| fill(a, &values)).collect(),
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.clone(), fill(v, &values)))
                .collect(),
            axes,
        }
    }

    /// The free-form axes as `(name, values)`, in name order.
    pub fn free_axes(&self) -> Vec<(String, Vec<toml::Value>)> {
        self.axes
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_filled_and_double_braces_are_literal() {
        assert_eq!(
            placeholders("--lr={lr}/{ model }{{x}}").unwrap(),
            ["lr", "model"]
        );
        assert!(placeholders("{lr")
            .unwrap_err()
            .to_string()
            .contains("without its `}`"));
        assert!(placeholders("lr}")
            .unwrap_err()
            .to_string()
            .contains("without its `{`"));
        let values: BTreeMap<String, String> = [("lr".to_string(), "0.1".to_string())]
            .into_iter()
            .collect();
        assert_eq!(
            fill("--lr={lr} {{x}} {other}", &values),
            "--lr=0.1 {x} {other}"
        );
    }
}
