//! The verdict of a correlation row beside the paper, decided from the 95 % interval of the
//! coefficient the paper quotes by the rule the report states ([`RULE`]).

/// Half-width of the band around 0 within which an interval must lie to agree with the paper's
/// "no correlation" (at most a moderate correlation either way).
pub const NO_CORRELATION_MARGIN: f64 = 0.5;

/// The rule, as the report states it (once, in the prose of its correlation section).
pub const RULE: &str = "Verdict (last column), from the 95 % CI of the coefficient in bold, its bounds \
     taken as printed (2 decimals): **agrees** when the interval contains the paper's value or lies entirely \
     on the paper's side of 0; **differs** when it lies entirely on the other side of 0; **inconclusive** \
     otherwise: whenever it contains 0 while the paper reports a correlation (even if it contains the \
     paper's value too: such an interval cannot tell), or when no interval could be computed (the reason \
     is given); **by construction** for training time vs training energy when that energy is \
     estimated from CPU time, since the estimate is CPU time × a power model (the coefficient is still \
     printed, but it tests nothing). For the paper's \"no correlation\" (accuracy vs energy): agrees when the \
     interval contains 0 and lies within ±0.5 (at most a moderate correlation either way), differs when it \
     excludes 0, inconclusive otherwise (too wide to tell). For batch size the paper's side is negative \
     (energy falls as batches grow). Where the paper gives no figure: significant when the interval \
     excludes 0, else not significant.";

/// What the paper reports for a pair, as the rule reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PaperFinding {
    /// A correlation of this value; its sign is the paper's side of 0.
    Value(f64),
    /// A negative correlation without a value (energy falls with batch size).
    Negative,
    /// No correlation: the value 0, agreed with within ±[`NO_CORRELATION_MARGIN`].
    NoCorrelation,
    /// The paper gives no figure: only whether the interval excludes 0 is said.
    NoFigure,
}

/// A row's 95 % interval, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Interval {
    /// The interval's bounds and whether each estimate's 5–95 % energy range was drawn in it.
    Computed {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
        /// Whether the bootstrap drew each energy within its estimate's range.
        ranges_drawn: bool,
    },
    /// No interval, and why (e.g. "n/a: 2 points, need ≥ 3").
    Missing(String),
}

/// A bound as the report prints it (2 decimals), so the verdict agrees with the printed
/// interval.
fn printed(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The verdict of a row, verdict word first, then the reason with the numbers.
/// `estimated`: the pair is training time vs training energy and that energy is estimated from
/// CPU time, so it holds by construction.
pub fn verdict(paper: PaperFinding, interval: &Interval, estimated: bool) -> String {
    let (lo, hi, ranges_drawn) = match interval {
        Interval::Computed {
            lo,
            hi,
            ranges_drawn,
        } => (printed(*lo), printed(*hi), *ranges_drawn),
        Interval::Missing(why) => {
            if estimated {
                return format!("{}; no interval ({why})", by_construction(false));
            }
            return match paper {
                PaperFinding::NoFigure => {
                    format!("inconclusive: no interval ({why}) (the paper gives no figure)")
                }
                _ => format!("inconclusive: no interval ({why})"),
            };
        }
    };
    let ci = format!("95 % CI [{lo:.2}, {hi:.2}]");
    if estimated {
        return format!("{}; {ci}", by_construction(ranges_drawn));
    }
    let contains_0 = lo <= 0.0 && 0.0 <= hi;
    match paper {
        PaperFinding::Value(v) if contains_0 && lo <= v && v <= hi => {
            format!("inconclusive: {ci} contains both 0 and the paper's {v}")
        }
        PaperFinding::Value(v) if lo <= v && v <= hi => format!("agrees: {ci} contains {v}"),
        PaperFinding::Value(v) => side(v > 0.0, lo, hi, &ci, &format!("the paper's {v}")),
        PaperFinding::Negative => side(false, lo, hi, &ci, "the paper's negative trend"),
        PaperFinding::NoCorrelation => {
            let m = NO_CORRELATION_MARGIN;
            if !contains_0 {
                format!("differs: {ci} excludes 0")
            } else if -m <= lo && hi <= m {
                format!("agrees: {ci} contains 0 and lies within ±{m}")
            } else {
                format!("inconclusive: {ci} contains 0 but reaches beyond ±{m}")
            }
        }
        PaperFinding::NoFigure if contains_0 => {
            format!("not significant: {ci} contains 0 (the paper gives no figure)")
        }
        PaperFinding::NoFigure => {
            format!("significant: {ci} excludes 0 (the paper gives no figure)")
        }
    }
}

/// The verdict from which side of 0 an interval lies on, the paper's side (`desc`, e.g. "the
/// paper's 0.99") positive or not.
fn side(positive: bool, lo: f64, hi: f64, ci: &str, desc: &str) -> String {
    let (above, below) = (lo > 0.0, hi < 0.0);
    let (paper_side, other) = if positive {
        ("above", "below")
    } else {
        ("below", "above")
    };
    if (positive && above) || (!positive && below) {
        format!("agrees: {ci} lies {paper_side} 0, as does {desc}")
    } else if above || below {
        format!("differs: {ci} lies {other} 0, {desc} {paper_side} it")
    } else {
        format!("inconclusive: {ci} contains 0, {desc} lies {paper_side} it")
    }
}

/// "by construction (…)", saying how the energy was estimated and whether its range was drawn.
fn by_construction(ranges_drawn: bool) -> String {
    let ranges = if ranges_drawn {
        "ranges 5–95 % drawn in the interval"
    } else {
        "no estimate ranges recorded"
    };
    format!("by construction (energy estimated from CPU time; {ranges})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(lo: f64, hi: f64) -> Interval {
        Interval::Computed {
            lo,
            hi,
            ranges_drawn: false,
        }
    }

    #[test]
    fn an_interval_containing_the_papers_value_agrees() {
        assert_eq!(
            verdict(PaperFinding::Value(0.99), &ci(0.94, 1.0), false),
            "agrees: 95 % CI [0.94, 1.00] contains 0.99"
        );
    }

    #[test]
    fn an_interval_on_the_papers_side_of_0_agrees() {
        assert_eq!(
            verdict(PaperFinding::Value(0.99), &ci(0.90, 0.95), false),
            "agrees: 95 % CI [0.90, 0.95] lies above 0, as does the paper's 0.99"
        );
    }

    #[test]
    fn an_interval_on_the_other_side_of_0_differs() {
        assert_eq!(
            verdict(PaperFinding::Value(0.8), &ci(-0.9, -0.2), false),
            "differs: 95 % CI [-0.90, -0.20] lies below 0, the paper's 0.8 above it"
        );
    }

    #[test]
    fn an_interval_straddling_0_is_inconclusive() {
        assert_eq!(
            verdict(PaperFinding::Value(0.9), &ci(-1.0, 1.0), false),
            "inconclusive: 95 % CI [-1.00, 1.00] contains both 0 and the paper's 0.9",
            "an interval containing 0 cannot tell, whatever else it contains"
        );
        assert_eq!(
            verdict(PaperFinding::Value(0.9), &ci(-0.2, 0.6), false),
            "inconclusive: 95 % CI [-0.20, 0.60] contains 0, the paper's 0.9 lies above it"
        );
    }

    #[test]
    fn the_interval_is_read_as_printed() {
        // 0.9851 prints as 0.99, so the printed interval contains the paper's 0.99.
        assert!(verdict(PaperFinding::Value(0.99), &ci(0.9, 0.9851), false)
            .starts_with("agrees: 95 % CI [0.90, 0.99] contains"));
        // 0.004 prints as 0.00: the printed interval touches 0, so it does not exclude it.
        assert!(
            verdict(PaperFinding::Value(0.9), &ci(0.004, 0.5), false).starts_with("inconclusive")
        );
    }

    #[test]
    fn no_interval_is_inconclusive_and_says_why() {
        let missing = Interval::Missing("n/a: 2 points, need ≥ 3".into());
        assert_eq!(
            verdict(PaperFinding::Value(0.8), &missing, false),
            "inconclusive: no interval (n/a: 2 points, need ≥ 3)"
        );
        assert_eq!(
            verdict(PaperFinding::NoFigure, &missing, false),
            "inconclusive: no interval (n/a: 2 points, need ≥ 3) (the paper gives no figure)"
        );
    }

    #[test]
    fn estimated_energy_makes_time_vs_energy_hold_by_construction() {
        assert_eq!(
            verdict(PaperFinding::Value(0.99), &ci(0.94, 1.0), true),
            "by construction (energy estimated from CPU time; no estimate ranges recorded); \
             95 % CI [0.94, 1.00]"
        );
        let drawn = Interval::Computed {
            lo: 0.5,
            hi: 0.7,
            ranges_drawn: true,
        };
        assert_eq!(
            verdict(PaperFinding::Value(0.99), &drawn, true),
            "by construction (energy estimated from CPU time; ranges 5–95 % drawn in the \
             interval); 95 % CI [0.50, 0.70]"
        );
        let missing = Interval::Missing("n/a: constant input".into());
        assert!(verdict(PaperFinding::Value(0.99), &missing, true)
            .starts_with("by construction (energy estimated from CPU time"));
    }

    #[test]
    fn no_correlation_agrees_only_within_the_margin() {
        assert_eq!(
            verdict(PaperFinding::NoCorrelation, &ci(-0.3, 0.4), false),
            "agrees: 95 % CI [-0.30, 0.40] contains 0 and lies within ±0.5"
        );
        assert_eq!(
            verdict(PaperFinding::NoCorrelation, &ci(-0.30, 0.64), false),
            "inconclusive: 95 % CI [-0.30, 0.64] contains 0 but reaches beyond ±0.5"
        );
        assert_eq!(
            verdict(PaperFinding::NoCorrelation, &ci(0.1, 0.4), false),
            "differs: 95 % CI [0.10, 0.40] excludes 0"
        );
        assert!(verdict(PaperFinding::NoCorrelation, &ci(-0.5, 0.5), false).starts_with("agrees"));
    }

    #[test]
    fn batch_size_agrees_below_0_and_differs_above() {
        assert!(verdict(PaperFinding::Negative, &ci(-0.67, -0.02), false)
            .starts_with("agrees: 95 % CI [-0.67, -0.02] lies below 0"));
        assert!(verdict(PaperFinding::Negative, &ci(0.1, 0.5), false).starts_with("differs"));
        assert!(verdict(PaperFinding::Negative, &ci(-0.42, 0.19), false)
            .starts_with("inconclusive: 95 % CI [-0.42, 0.19] contains 0"));
    }

    #[test]
    fn without_a_paper_figure_significance_comes_from_the_interval() {
        assert_eq!(
            verdict(PaperFinding::NoFigure, &ci(-0.09, 0.80), false),
            "not significant: 95 % CI [-0.09, 0.80] contains 0 (the paper gives no figure)"
        );
        assert_eq!(
            verdict(PaperFinding::NoFigure, &ci(0.21, 0.97), false),
            "significant: 95 % CI [0.21, 0.97] excludes 0 (the paper gives no figure)"
        );
    }
}
