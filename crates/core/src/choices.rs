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

/// Defines a [`Choice`] enum from its variants and their names, with `Display`, `FromStr`,
/// `Serialize` and `Deserialize` through those names.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $t:ident, $what:literal {
            $($(#[$vmeta:meta])* $v:ident = $name:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $t {
            $($(#[$vmeta])* $v,)*
        }

        impl Choice for $t {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$($t::$v),*];
            fn name(self) -> &'static str {
                match self {
                    $($t::$v => $name,)*
                }
            }
        }

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

choice! {
    /// The optimizer a run trains with.
    Optimizer, "optimizer" {
        /// SGD with heavy-ball momentum, weight decay added to the gradient as PyTorch's `SGD`
        /// does.
        Sgd = "sgd",
        /// SGD with Nesterov momentum.
        SgdNesterov = "sgd-nesterov",
        /// AdamW, decoupled weight decay.
        AdamW = "adamw",
    }
}

choice! {
    /// How the learning rate moves from its peak over the run.
    Schedule, "schedule" {
        /// Cosine decay to 0, the rate changing once per epoch.
        Cosine = "cosine",
        /// Cosine decay to 0, the rate changing after every batch.
        CosineStep = "cosine-step",
        /// ×0.1 every third of the epochs (PyTorch `StepLR`).
        Step = "step",
        /// The peak rate throughout.
        Constant = "constant",
    }
}

choice! {
    /// The numeric type weights, activations and gradients are computed in.
    Precision, "precision" {
        /// 32-bit IEEE floats, the only precision accepted today.
        F32 = "f32",
    }
}

choice! {
    /// The order a sweep runs its runs in (`order = …`; run ids do not depend on it).
    RunOrder, "run order" {
        /// Every configuration once, then the second seed or repeat of every configuration, …: a
        /// drift in background load spreads over all configurations instead of lining up with one.
        Interleaved = "interleaved",
        /// As `interleaved`, each round of seeds and repeats in its own random order drawn from the
        /// sweep's seed (the same on every machine and every resume).
        Shuffled = "shuffled",
        /// The expansion order: axes nested as listed, every seed and repeat of a configuration in
        /// a row.
        Grid = "grid",
    }
}

choice! {
    /// The family of a zoo model: what the report groups by.
    Family, "model family" {
        /// Multi-layer perceptrons.
        Mlp = "mlp",
        /// Convolutional networks.
        Cnn = "cnn",
        /// Transformers: vision transformers and the character GPT.
        Transformer = "transformer",
    }
}

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
        round_trip::<RunOrder>();
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
