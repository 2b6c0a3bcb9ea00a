//! The line protocol an external command speaks to greenbench: what only the command knows
//! (where its epochs and its inference begin and end, its loss and accuracies, its size).
//!
//! A protocol line starts with [`PREFIX`] and is printed on the command's stdout or written to
//! the file named by [`crate::external_run::EVENTS_ENV`]. After the prefix comes either a JSON object
//! or `key=value` pairs separated by spaces; the key `event` says which event it is:
//!
//! ```text
//! greenbench: event=epoch_start epoch=1
//! greenbench: event=epoch_end epoch=1 loss=0.71 train_accuracy=0.74 val_accuracy=0.70
//! greenbench: {"event": "inference_start"}
//! greenbench: event=inference_end samples=10000 test_accuracy=0.81
//! greenbench: event=metrics params=11173962 macs=556651520 train_samples=50000
//! ```
//!
//! Every other line is the command's own output. A protocol line that cannot be read is a
//! [`ProtocolWarning`] (line number, text, what was expected), never an error of the run.

use serde_json::{Map, Value};

/// What starts a protocol line.
pub const PREFIX: &str = "greenbench:";

/// The events a command may report.
const EVENTS: &str = "epoch_start, epoch_end, inference_start, inference_end, metrics";

/// The keys a protocol line may hold besides `event`.
const KEYS: &str = "epoch, loss, train_accuracy, val_accuracy, test_accuracy, params, macs, \
                    train_samples, validation_samples, samples";

/// Figures a command reports (each `None` until it does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Training loss (mean of the epoch).
    pub loss: Option<f64>,
    /// Training accuracy, 0..1.
    pub train_accuracy: Option<f64>,
    /// Validation accuracy, 0..1.
    pub val_accuracy: Option<f64>,
    /// Test accuracy, 0..1.
    pub test_accuracy: Option<f64>,
    /// Trainable parameters.
    pub params: Option<u64>,
    /// Multiply-accumulates per sample (forward pass).
    pub macs: Option<u64>,
    /// Training samples per epoch.
    pub train_samples: Option<u64>,
    /// Samples of the validation split `val_accuracy` is measured on.
    pub validation_samples: Option<u64>,
    /// Samples of an inference pass.
    pub samples: Option<u64>,
}

impl Metrics {
    /// Keeps every figure `other` gives, over this one's.
    pub fn update(&mut self, other: &Metrics) {
        macro_rules! take {
            ($($f:ident),*) => {$( if other.$f.is_some() { self.$f = other.$f; } )*};
        }
        take!(
            loss,
            train_accuracy,
            val_accuracy,
            test_accuracy,
            params,
            macs,
            train_samples,
            validation_samples,
            samples
        );
    }
}

/// One event of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandEvent {
    /// A training epoch begins (1-based epoch, when given).
    EpochStart(Option<usize>),
    /// A training epoch ended, with what the command measured of it.
    EpochEnd(Option<usize>, Metrics),
    /// The inference pass begins.
    InferenceStart,
    /// The inference pass ended.
    InferenceEnd(Metrics),
    /// Figures outside any phase boundary (model size, final accuracies).
    Metrics(Metrics),
}

/// A protocol line that could not be read: where, what, and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("protocol line {line} `{text}`: {problem}")]
pub struct ProtocolWarning {
    /// 1-based line number in the stream (stdout or the events file) it came from.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// What is wrong and what was expected.
    pub problem: String,
}

/// What is wrong with a protocol line, and what was expected instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineProblem {
    /// A JSON body that is not an object.
    #[error("not a JSON object: expected {{\"event\": \"epoch_end\", \"epoch\": 1, …}}")]
    NotAJsonObject,
    /// A key=value body with a word that has no `=`.
    #[error("`{0}` is not key=value: expected e.g. `event=epoch_end epoch=1 loss=0.5`")]
    NotKeyValue(String),
    /// An `event` that is not text.
    #[error("event `{0}` is not a name: expected one of {EVENTS}")]
    EventNotAName(String),
    /// No `event` key.
    #[error("no `event`: expected event=NAME, one of {EVENTS}")]
    NoEvent,
    /// An event name the protocol does not have.
    #[error("unknown event `{0}`: expected one of {EVENTS}")]
    UnknownEvent(String),
    /// A key the protocol does not have.
    #[error("unknown key `{0}`: expected {KEYS}")]
    UnknownKey(String),
    /// `epoch=0`.
    #[error("epoch 0: epochs count from 1")]
    EpochZero,
    /// A value that should be a finite number.
    #[error("{0} = `{1}` is not a finite number")]
    NotANumber(String, String),
    /// A value that should lie in 0..1.
    #[error("{0} = {1} is not a fraction: expected 0..1 (write 0.93 for 93 %)")]
    NotAFraction(String, f64),
    /// A value that should be a whole number ≥ 0.
    #[error("{0} = `{1}` is not a whole number ≥ 0")]
    NotACount(String, String),
}

/// Reads line `number` of a command's output: `Ok(None)` for a line that is not a protocol
/// line, the event of one that is, or a warning for a protocol line that cannot be read.
pub fn parse_line(number: usize, line: &str) -> Result<Option<CommandEvent>, ProtocolWarning> {
    let trimmed = line.trim();
    let Some(body) = trimmed.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let warn = |problem: LineProblem| ProtocolWarning {
        line: number,
        text: trimmed.chars().take(200).collect(),
        problem: problem.to_string(),
    };
    let body = body.trim();
    let fields = if body.starts_with('{') {
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) | Err(_) => return Err(warn(LineProblem::NotAJsonObject)),
        }
    } else {
        key_values(body).map_err(warn)?
    };
    event(&fields).map(Some).map_err(warn)
}

/// `key=value key=value` as a JSON map (numbers parsed where they are numbers).
fn key_values(body: &str) -> Result<Map<String, Value>, LineProblem> {
    let mut m = Map::new();
    for pair in body.split_whitespace() {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| LineProblem::NotKeyValue(pair.to_string()))?;
        let value = v
            .parse::<f64>()
            .ok()
            .and_then(|_| serde_json::from_str::<Value>(v).ok())
            .unwrap_or_else(|| Value::String(v.to_string()));
        m.insert(k.to_string(), value);
    }
    Ok(m)
}

/// The event a line's fields describe.
fn event(fields: &Map<String, Value>) -> Result<CommandEvent, LineProblem> {
    let name = match fields.get("event") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(LineProblem::EventNotAName(other.to_string())),
        None => return Err(LineProblem::NoEvent),
    };
    for k in fields.keys() {
        if k != "event" && !KEYS.split(", ").any(|known| known == k.trim()) {
            return Err(LineProblem::UnknownKey(k.clone()));
        }
    }
    let epoch = count(fields, "epoch")?.map(|e| e as usize);
    if epoch == Some(0) {
        return Err(LineProblem::EpochZero);
    }
    let metrics = Metrics {
        loss: number(fields, "loss")?,
        train_accuracy: fraction(fields, "train_accuracy")?,
        val_accuracy: fraction(fields, "val_accuracy")?,
        test_accuracy: fraction(fields, "test_accuracy")?,
        params: count(fields, "params")?,
        macs: count(fields, "macs")?,
        train_samples: count(fields, "train_samples")?,
        validation_samples: count(fields, "validation_samples")?,
        samples: count(fields, "samples")?,
    };
    Ok(match name {
        "epoch_start" => CommandEvent::EpochStart(epoch),
        "epoch_end" => CommandEvent::EpochEnd(epoch, metrics),
        "inference_start" => CommandEvent::InferenceStart,
        "inference_end" => CommandEvent::InferenceEnd(metrics),
        "metrics" => CommandEvent::Metrics(metrics),
        other => return Err(LineProblem::UnknownEvent(other.to_string())),
    })
}

/// A finite number under `key`, if given.
fn number(fields: &Map<String, Value>, key: &str) -> Result<Option<f64>, LineProblem> {
    match fields.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| LineProblem::NotANumber(key.to_string(), v.to_string())),
    }
}

/// A fraction 0..1 under `key`, if given.
fn fraction(fields: &Map<String, Value>, key: &str) -> Result<Option<f64>, LineProblem> {
    let x = number(fields, key)?;
    match x {
        Some(a) if !(0.0..=1.0).contains(&a) => Err(LineProblem::NotAFraction(key.to_string(), a)),
        _ => Ok(x),
    }
}

/// A whole number ≥ 0 under `key`, if given.
fn count(fields: &Map<String, Value>, key: &str) -> Result<Option<u64>, LineProblem> {
    match fields.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 1e18)
                    .map(|x| x as u64)
            })
            .map(Some)
            .ok_or_else(|| LineProblem::NotACount(key.to_string(), v.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_and_json_lines_read_the_same() {
        let kv = parse_line(
            1,
            "greenbench: event=epoch_end epoch=2 loss=0.5 val_accuracy=0.75",
        )
        .unwrap()
        .unwrap();
        let json = parse_line(
            2,
            r#"  greenbench: {"event": "epoch_end", "epoch": 2, "loss": 0.5, "val_accuracy": 0.75}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(kv, json);
        let CommandEvent::EpochEnd(Some(2), m) = kv else {
            panic!("{kv:?}")
        };
        assert_eq!(
            (m.loss, m.val_accuracy, m.train_accuracy),
            (Some(0.5), Some(0.75), None)
        );
        assert_eq!(
            parse_line(3, "greenbench: event=metrics params=1000 macs=2e6").unwrap(),
            Some(CommandEvent::Metrics(Metrics {
                params: Some(1000),
                macs: Some(2_000_000),
                ..Default::default()
            }))
        );
        assert_eq!(
            parse_line(4, "greenbench: event=inference_start").unwrap(),
            Some(CommandEvent::InferenceStart)
        );
    }

    #[test]
    fn other_lines_are_the_commands_own_output() {
        for line in [
            "",
            "epoch 1 loss 0.5",
            "GREENBENCH event=x",
            " greenbench event=epoch_end",
        ] {
            assert_eq!(parse_line(1, line), Ok(None), "{line}");
        }
    }

    #[test]
    fn malformed_lines_are_located_warnings_that_say_what_was_expected() {
        let cases = [
            ("greenbench: {\"event\": ", "not a JSON object"),
            ("greenbench: [1, 2]", "`[1,` is not key=value"),
            ("greenbench: epoch=1", "no `event`"),
            (
                "greenbench: event=epoch_finish",
                "unknown event `epoch_finish`: expected one of epoch_start",
            ),
            (
                "greenbench: event=epoch_end loss",
                "`loss` is not key=value",
            ),
            (
                "greenbench: event=epoch_end loss=abc",
                "loss = `\"abc\"` is not a finite number",
            ),
            (
                "greenbench: event=epoch_end val_accuracy=93",
                "not a fraction: expected 0..1",
            ),
            (
                "greenbench: event=metrics params=-3",
                "params = `-3` is not a whole number",
            ),
            ("greenbench: event=epoch_end epoch=0", "epochs count from 1"),
            (
                "greenbench: event=epoch_end acc=0.5",
                "unknown key `acc`: expected epoch, loss",
            ),
            ("greenbench: {\"event\": 3}", "event `3` is not a name"),
        ];
        for (i, (line, want)) in cases.iter().enumerate() {
            let w = parse_line(i + 10, line).expect_err(line);
            assert_eq!(w.line, i + 10);
            assert_eq!(w.text, line.trim());
            assert!(w.problem.contains(want), "{line}: {}", w.problem);
            let shown = w.to_string();
            assert!(
                shown.starts_with(&format!("protocol line {} `", i + 10)),
                "{shown}"
            );
        }
    }

    #[test]
    fn metrics_update_keeps_what_is_given() {
        let mut m = Metrics {
            loss: Some(1.0),
            params: Some(5),
            ..Default::default()
        };
        m.update(&Metrics {
            loss: Some(0.5),
            ..Default::default()
        });
        assert_eq!((m.loss, m.params), (Some(0.5), Some(5)));
    }
}
