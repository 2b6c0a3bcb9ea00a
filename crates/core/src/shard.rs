//! Sharding a sweep: shard `i` of `n` takes the runs whose position in the expanded, stable order
//! is ≡ i (mod n).

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0-based index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Whether the run at `position` of the expanded order belongs to this shard.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index
    }
    /// Folder name under the sweep folder: `shard-i-of-n`.
    pub fn folder_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
    /// The shard a folder named `shard-i-of-n` holds (the inverse of [`Shard::folder_name`]);
    /// `None` for any other name or an index not below the count.
    pub fn from_folder_name(name: &str) -> Option<Shard> {
        let (i, n) = name.strip_prefix("shard-")?.split_once("-of-")?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(i) || !digits(n) {
            return None;
        }
        let shard = Shard {
            index: i.parse().ok()?,
            count: n.parse().ok()?,
        };
        (shard.index < shard.count).then_some(shard)
    }
    /// Whether this shard owns no run of a sweep of `total_runs` runs (more shards than runs).
    pub fn owns_none_of(&self, total_runs: usize) -> bool {
        self.index >= total_runs
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `--shard` value is not a shard `i/n`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardParseError {
    /// No `/` between index and count.
    #[error("shard `{text}` must look like i/n, e.g. 0/4")]
    NoSlash {
        /// The value given.
        text: String,
    },
    /// The index is not a non-negative integer.
    #[error("shard index `{index}` is not a number")]
    BadIndex {
        /// The part before the `/`.
        index: String,
    },
    /// The count is not a non-negative integer.
    #[error("shard count `{count}` is not a number")]
    BadCount {
        /// The part after the `/`.
        count: String,
    },
    /// The count is 0 or the index not below it.
    #[error("shard {text}: need 0 ≤ i < n (indices start at 0)")]
    OutOfRange {
        /// The value given.
        text: String,
    },
}

impl FromStr for Shard {
    type Err = ShardParseError;
    /// Parses `i/n` with 0 ≤ i < n.
    fn from_str(s: &str) -> Result<Shard, ShardParseError> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| ShardParseError::NoSlash { text: s.into() })?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| ShardParseError::BadIndex { index: i.into() })?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| ShardParseError::BadCount { count: n.into() })?;
        if count == 0 || index >= count {
            return Err(ShardParseError::OutOfRange { text: s.into() });
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_exactly_once_for_n_1_to_7() {
        for n in 1..=7 {
            for runs in [0usize, 1, 5, 13, 50] {
                let mut seen = vec![0; runs];
                for i in 0..n {
                    let s = Shard { index: i, count: n };
                    for (p, c) in seen.iter_mut().enumerate() {
                        if s.owns(p) {
                            *c += 1;
                        }
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "n={n} runs={runs}");
            }
        }
    }

    #[test]
    fn folder_names_round_trip() {
        let s = Shard { index: 4, count: 8 };
        assert_eq!(Shard::from_folder_name(&s.folder_name()), Some(s));
        for bad in [
            "shard-8-of-8",
            "shard-1-of-",
            "shard--of-2",
            "shard-+1-of-2",
            "x-1-of-2",
            "shard-1-of-2x",
        ] {
            assert_eq!(Shard::from_folder_name(bad), None, "{bad}");
        }
        assert!(s.owns_none_of(3) && s.owns_none_of(4) && !s.owns_none_of(5));
    }

    #[test]
    fn parse_errors_are_typed_and_keep_their_text() {
        for (text, want, message) in [
            (
                "x",
                ShardParseError::NoSlash { text: "x".into() },
                "shard `x` must look like i/n, e.g. 0/4",
            ),
            (
                "a/4",
                ShardParseError::BadIndex { index: "a".into() },
                "shard index `a` is not a number",
            ),
            (
                "1/b",
                ShardParseError::BadCount { count: "b".into() },
                "shard count `b` is not a number",
            ),
            (
                "4/4",
                ShardParseError::OutOfRange { text: "4/4".into() },
                "shard 4/4: need 0 ≤ i < n (indices start at 0)",
            ),
        ] {
            let e = text.parse::<Shard>().unwrap_err();
            assert_eq!(e, want);
            assert_eq!(e.to_string(), message);
        }
    }

    #[test]
    fn parse() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
    }
}
