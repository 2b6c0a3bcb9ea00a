//! Numbers as a person reads them: `1e300`, not three hundred digits.

/// `v` as the shortest text that reads back as the same `f64`: plain (`0.05`, `128`) for everyday
/// magnitudes, with an exponent (`1e300`, `2.5e-7`) from 10⁹ up and below 10⁻⁴, where plain text
/// would be long. `{}` of an `f64` never uses an exponent, so `1e300` would print 301 digits.
pub fn compact_number(v: f64) -> String {
    let a = v.abs();
    if a.is_finite() && a != 0.0 && !(1e-4..1e9).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyday_numbers_are_plain_and_extremes_have_an_exponent() {
        for (v, text) in [
            (0.05, "0.05"),
            (128.0, "128"),
            (0.0, "0"),
            (1e-4, "0.0001"),
            (5e8, "500000000"),
            (1e300, "1e300"),
            (-1e300, "-1e300"),
            (2.5e-7, "2.5e-7"),
            (1e9, "1e9"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(compact_number(v), text);
        }
        assert_eq!(compact_number(f64::NAN), "NaN");
    }

    #[test]
    fn the_text_reads_back_as_the_same_number() {
        for v in [
            1e300,
            0.1 + 0.2,
            1.0 / 3.0 * 1e-9,
            123_456_789_012.5,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(compact_number(v).parse::<f64>().unwrap(), v);
        }
    }
}
