//! Number formatting for tables: a few significant digits, no NaN, no exponent for everyday sizes.

use crate::groups::Summary;

/// `x` with about `sig` significant digits; `—` for a non-finite value.
pub fn sig(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..=9).contains(&mag) {
        return format!("{:.*e}", sig.saturating_sub(1), x);
    }
    let decimals = (sig as i32 - 1 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

/// `mean ± sd` scaled by `k`, or just the mean for one value; `—` when absent.
pub fn pm(s: Option<Summary>, k: f64) -> String {
    match s {
        None => "—".into(),
        Some(s) => match s.sd {
            Some(sd) => format!("{} ± {}", sig(s.mean * k, 3), sig(sd * k, 2)),
            None => sig(s.mean * k, 3),
        },
    }
}

/// An optional number with `sig(…, 4)`, empty when absent (for CSV cells).
pub fn cell(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| format!("{v}"))
        .unwrap_or_default()
}

/// A count with thousands separators (`11 173 962`).
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(sig(1234.4, 3), "1234");
        assert_eq!(sig(0.012345, 3), "0.0123");
        assert_eq!(sig(f64::NAN, 3), "—");
        assert_eq!(sig(1.5e12, 3), "1.50e12");
        assert_eq!(count(11173962), "11\u{202f}173\u{202f}962");
        assert_eq!(
            pm(
                Some(Summary {
                    mean: 2.0,
                    sd: Some(0.5),
                    n: 2
                }),
                1.0
            ),
            "2.00 ± 0.50"
        );
        assert_eq!(pm(None, 1.0), "—");
        assert_eq!(cell(Some(f64::NAN)), "");
    }
}
