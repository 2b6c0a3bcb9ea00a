//! The closed sets a configuration chooses from — optimizer, learning-rate schedule, numeric
//! precision — and the model families of the zoo. Parsed once, when a config is read; every crate
//! after that matches on the enum. Each is written in configs, specs and records as the same
//! kebab-case name it always was, so run ids do not change.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A closed set of names: every value, its name, and what the set is called in messages.
pub trait Choice: Copy + Sized + 'static {
    /// What the set is called in messages ("optimizer").
    const WHAT: &'static str;
    /// Every value, in the order messages list them.
    const ALL: &'static [Self];
    /// The name written in configs and records.
    fn name(self) -> &'static str;

    /// The value named `s`; the error names it and lists every accepted name.
    fn parse(s: &str) -> Result<Self, UnknownChoice> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s.trim())
            .ok_or_else(|| UnknownChoice {
                what: Self::WHAT,
                given: s.to_string(),
                accepted: Self::accepted(),
            })
    }

    /// Every accepted name, comma-separated.
    fn accepted() -> String {
        Self::ALL
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A name that is not in its set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`; accepted: {accepted}")]
pub struct UnknownChoice {
    /// What the set is called ("optimizer").
    pub what: &'static str,
    /// The name as written.
    pub given: String,
    /// Every accepted name, comma-separated.
    pub accepted: String,
}

/// Implements `Display`, `FromStr`, `Serialize` and `Deserialize` through [`Choice`]'s names.
macro_rules! choice_traits {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.name())
            }
        }
        impl FromStr for $t {
            type Err = UnknownChoice;
            fn from_str(s: &str) -> Result<Self, UnknownChoice> {
                <$t as Choice>::parse(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t as Choice>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The optimizer a run trains with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Optimizer {
    /// SGD with heavy-ball momentum, weight decay added to the gradient as PyTorch's `SGD` does
    /// (`sgd`).
    Sgd,
    /// SGD with Nesterov momentum (`sgd-nesterov`).
    SgdNesterov,
    /// AdamW, decoupled weight decay (`adamw`).
    AdamW,
}

impl Choice for Optimizer {
    const WHAT: &'static str = "optimizer";
    const ALL: &'static [Self] = &[Optimizer::Sgd, Optimizer::SgdNesterov, Optimizer::AdamW];
    fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::SgdNesterov => "sgd-nesterov",
            Optimizer::AdamW => "adamw",
        }
    }
}
choice_traits!(Optimizer);

/// How the learning rate moves from its peak over the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// Cosine decay to 0, the rate changing once per epoch (`cosine`).
    Cosine,
    /// Cosine decay to 0, the rate changing after every batch (`cosine-step`).
    CosineStep,
    /// ×0.1 at 50 % and again at 75 % of the epochs (`step`).
    Step,
    /// The peak rate throughout (`constant`).
    Constant,
}

impl Choice for Schedule {
    const WHAT: &'static str = "schedule";
    const ALL: &'static [Self] = &[
        Schedule::Cosine,
        Schedule::CosineStep,
        Schedule::Step,
        Schedule::Constant,
    ];
    fn name(self) -> &'static str {
        match self {
            Schedule::Cosine => "cosine",
            Schedule::CosineStep => "cosine-step",
            Schedule::Step => "step",
            Schedule::Constant => "constant",
        }
    }
}
choice_traits!(Schedule);

/// The numeric type weights, activations and gradients are computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit IEEE floats (`f32`), the only precision accepted today.
    F32,
}

impl Choice for Precision {
    const WHAT: &'static str = "precision";
    const ALL: &'static [Self] = &[Precision::F32];
    fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
        }
    }
}
choice_traits!(Precision);

/// The family of a zoo model: what the report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Multi-layer perceptrons (`mlp`).
    Mlp,
    /// Convolutional networks (`cnn`).
    Cnn,
    /// Transformers: vision transformers and the character GPT (`transformer`).
    Transformer,
}

impl Choice for Family {
    const WHAT: &'static str = "model family";
    const ALL: &'static [Self] = &[Family::Mlp, Family::Cnn, Family::Transformer];
    fn name(self) -> &'static str {
        match self {
            Family::Mlp => "mlp",
            Family::Cnn => "cnn",
            Family::Transformer => "transformer",
        }
    }
}
choice_traits!(Family);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Choice + fmt::Display + FromStr + Serialize + PartialEq + fmt::Debug>()
    where
        <T as FromStr>::Err: fmt::Debug,
    {
        for &v in T::ALL {
            assert_eq!(v.to_string(), v.name());
            assert_eq!(v.name().parse::<T>().unwrap(), v);
            assert_eq!(
                serde_json::to_string(&v).unwrap(),
                format!("\"{}\"", v.name())
            );
        }
    }

    #[test]
    fn names_print_parse_and_serialise_alike() {
        round_trip::<Optimizer>();
        round_trip::<Schedule>();
        round_trip::<Precision>();
        round_trip::<Family>();
        let o: Optimizer = serde_json::from_str("\"sgd-nesterov\"").unwrap();
        assert_eq!(o, Optimizer::SgdNesterov);
    }

    #[test]
    fn unknown_names_list_what_is_accepted() {
        let e = "lion".parse::<Optimizer>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown optimizer `lion`; accepted: sgd, sgd-nesterov, adamw"
        );
        let e = serde_json::from_str::<Schedule>("\"linear\"").unwrap_err();
        assert!(e
            .to_string()
            .contains("accepted: cosine, cosine-step, step, constant"));
    }
}
