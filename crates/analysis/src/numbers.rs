//! Number formatting for tables: a few significant digits, no NaN, no exponent for everyday sizes.

use crate::groups::Spread;

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

/// Energy in the unit that fits it, 3 significant digits: `45.9 mJ`, `344 J`, `5.63 kJ`,
/// `1.20 MJ`; watt-hours beside it from 1 Wh on (`12.6 kJ (3.50 Wh)`).
pub fn energy(j: f64) -> String {
    if !j.is_finite() {
        return "—".into();
    }
    let a = j.abs();
    let (v, unit) = if a == 0.0 {
        (0.0, "J")
    } else if a < 1e-3 {
        (j * 1e6, "µJ")
    } else if a < 1.0 {
        (j * 1e3, "mJ")
    } else if a < 1e3 {
        (j, "J")
    } else if a < 1e6 {
        (j / 1e3, "kJ")
    } else {
        (j / 1e6, "MJ")
    };
    let mut t = format!("{} {unit}", sig3(v));
    if a >= 3600.0 {
        t.push_str(&format!(" ({} Wh)", sig3(j / 3600.0)));
    }
    t
}

/// Seconds in the unit that fits them: `850 ms`, `25.0 s`, `19.5 min`, `3.09 h`.
pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        return "—".into();
    }
    if s < 1.0 {
        format!("{} ms", sig3(s * 1e3))
    } else if s < 120.0 {
        format!("{} s", sig3(s))
    } else if s < 7200.0 {
        format!("{} min", sig3(s / 60.0))
    } else {
        format!("{} h", sig3(s / 3600.0))
    }
}

/// Three significant digits without an exponent for the ranges [`energy`] and [`duration`] use.
fn sig3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (2 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A correlation as a table cell: `0.982 (n = 4, p = 0.083 exact permutation, 95 % CI [0.87,
/// 1.00])`, or why there is none.
pub fn correlation(c: &crate::stats::Stat<crate::stats::Correlation>) -> String {
    match c {
        Ok(c) => format!(
            "{:.3} (n = {}, p = {} {}, 95 % CI {})",
            c.coefficient,
            c.n,
            sig(c.p_value, 2),
            c.p_method,
            ci(&c.ci95)
        ),
        Err(e) => e.to_string(),
    }
}

/// A bootstrap interval as `[lo, hi]` (2 decimals), or `n/a` when too few resamples had a
/// defined coefficient.
pub fn ci(ci: &Option<crate::stats::BootstrapCi>) -> String {
    match ci {
        Some(ci) => format!("[{:.2}, {:.2}]", ci.lo, ci.hi),
        None => "n/a (too few resamples with a defined coefficient)".into(),
    }
}

/// `mean ± sd` scaled by `k`, or just the mean for one value; `—` when absent.
pub fn pm(s: Option<Spread>, k: f64) -> String {
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
        if i > 0 && (s.len() - i).is_multiple_of(3) {
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
    fn energy_and_duration_pick_a_unit_that_shows_the_value() {
        assert_eq!(energy(0.0459), "45.9 mJ");
        assert_eq!(energy(344.2), "344 J");
        assert_eq!(energy(5633.0), "5.63 kJ (1.56 Wh)");
        assert_eq!(energy(2.5e-5), "25.0 µJ");
        assert_eq!(duration(0.85), "850 ms");
        assert_eq!(duration(25.0), "25.0 s");
        assert_eq!(duration(1169.0), "19.5 min");
    }

    #[test]
    fn formats() {
        assert_eq!(sig(1234.4, 3), "1234");
        assert_eq!(sig(0.012345, 3), "0.0123");
        assert_eq!(sig(f64::NAN, 3), "—");
        assert_eq!(sig(1.5e12, 3), "1.50e12");
        assert_eq!(count(11173962), "11\u{202f}173\u{202f}962");
        assert_eq!(pm(Spread::of(&[1.5, 2.0, 2.5]), 1.0), "2.00 ± 0.50");
        assert_eq!(pm(None, 1.0), "—");
        assert_eq!(cell(Some(f64::NAN)), "");
    }
}
