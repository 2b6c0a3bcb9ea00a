//! Tests of the figures: every kind drawn from committed records, layout and styles.

use super::*;
use crate::carbon::CarbonSettings;
use crate::data::EnergyBasis;
use greenbench_core::RunRecord;

#[test]
fn widths_parse_with_units_and_keep_text_at_least_7pt() {
    assert_eq!(parse_width("3.5in").unwrap(), 3.5);
    assert!((parse_width("88mm").unwrap() - 3.4646).abs() < 1e-3);
    assert!(parse_width("3.5").unwrap_err().to_string().contains("unit"));
    assert!(parse_width("0.2in").is_err());
    assert!(parse_width("xin").is_err());
    for (text, want, message) in [
        (
            "3.5",
            FigureError::WidthUnit { text: "3.5".into() },
            "figure width `3.5`: give a unit, e.g. 3.5in (single column), 7in (double column), 88mm",
        ),
        (
            "xin",
            FigureError::WidthNumber {
                text: "xin".into(),
                number: "x".into(),
            },
            "figure width `xin`: `x` is not a number",
        ),
        (
            "0.2in",
            FigureError::WidthRange {
                text: "0.2in".into(),
                inches: 0.2,
            },
            "figure width `0.2in` is 0.20 in; use 1–20 in (3.5in single column, 7in double column)",
        ),
    ] {
        let e = parse_width(text).unwrap_err();
        assert_eq!(e, want);
        assert_eq!(e.to_string(), message);
    }
    // The smallest text's em at the drawing's px per inch is ≥ 7 pt.
    for w in [3.5, 7.0] {
        let px_per_pt = width_px(w) as f64 / (w * 72.0);
        assert!(MIN_TEXT_PX / px_per_pt >= 7.0, "{w} in");
    }
}

/// A context of `runs` on raw, measured energy.
fn context<'a>(runs: &'a [&'a RunRecord], carbon: &'a CarbonSettings) -> ReportContext<'a> {
    ReportContext {
        runs,
        basis: EnergyBasis::Raw,
        quality: "measured".into(),
        carbon,
    }
}

/// The input of `ctx` with no predictions, at each figure's own size, not a search.
fn no_runs<'a>(ctx: &'a ReportContext<'a>) -> FigureInput<'a> {
    FigureInput {
        ctx,
        cv_predictions: Vec::new(),
        width_in: None,
        cv_note: None,
        search: None,
    }
}

#[test]
fn figures_without_their_data_say_why_with_a_typed_reason() {
    let carbon = CarbonSettings::default();
    let ctx = context(&[], &carbon);
    let input = no_runs(&ctx);
    assert_eq!(
        durations::prepare(&input).err(),
        Some(FigureError::NoOkRuns)
    );
    assert_eq!(
        power::prepare(&input).err(),
        Some(FigureError::NoComponentPower)
    );
    assert_eq!(
        power_vs_util::prepare(&input).err(),
        Some(FigureError::NoUtilisation)
    );
    assert_eq!(epochs::prepare(&input).err(), Some(FigureError::NoEpochs));
    assert_eq!(
        macs::prepare(&input).err(),
        Some(FigureError::TooFewModels { found: 0 })
    );
    assert_eq!(
        batch::prepare(&input).err(),
        Some(FigureError::SingleBatchSize)
    );
    assert_eq!(
        pareto::prepare(&input).err(),
        Some(FigureError::TooFewConfigurations { found: 0 })
    );
    assert_eq!(
        predicted::prepare(&input).err(),
        Some(FigureError::TooFewPredictions { found: 0 })
    );
    let noted = FigureInput {
        cv_note: Some("one model only".into()),
        ..no_runs(&ctx)
    };
    assert_eq!(
        predicted::prepare(&noted).err(),
        Some(FigureError::NoPredictions {
            why: "one model only".into()
        })
    );
    assert_eq!(search::prepare(&input).err(), Some(FigureError::NotASearch));
}

/// The quick sweep's runs (two models, one run each), every training energy given a ±20 %
/// range.
fn ranged_runs() -> Vec<RunRecord> {
    use greenbench_core::Component;
    include_str!("../../tests/data/quick/runs.jsonl")
        .lines()
        .map(|l| {
            let mut r: RunRecord = serde_json::from_str(l).unwrap();
            let t = r.train.as_mut().unwrap();
            let ranges = Component::ALL
                .iter()
                .filter_map(|&c| t.energy.get(c).map(|v| (c, [0.8 * v, 1.2 * v])))
                .collect();
            t.energy = t.energy.clone().with_ranges(ranges, Default::default());
            r
        })
        .collect()
}

#[test]
fn an_energy_with_a_range_and_no_repeats_draws_the_range_as_its_error_bar() {
    let runs = ranged_runs();
    let refs: Vec<&RunRecord> = runs.iter().collect();
    let carbon = CarbonSettings::default();
    let ctx = context(&refs, &carbon);
    let input = no_runs(&ctx);
    let macs = macs::prepare(&input).unwrap();
    let s = &macs.series[0];
    assert_eq!(s.y_err.len(), 2);
    for ((_, y), err) in s.points.iter().zip(&s.y_err) {
        let (lo, hi) = err.expect("the range as the error bar");
        assert!((lo - 0.8 * y).abs() < 1e-9 * y && (hi - 1.2 * y).abs() < 1e-9 * y);
    }
    let front = pareto::prepare(&input).unwrap();
    assert!(front.series[0].x_err.iter().all(Option::is_some));
    // Without ranges a single run has no error bar.
    let plain: Vec<RunRecord> = include_str!("../../tests/data/quick/runs.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let refs: Vec<&RunRecord> = plain.iter().collect();
    let ctx = context(&refs, &carbon);
    let input = no_runs(&ctx);
    assert!(macs::prepare(&input).unwrap().series[0]
        .y_err
        .iter()
        .all(Option::is_none));
}

/// The text a report prints after "skipped:" for each figure (reports are compared byte for
/// byte, so these must not change).
#[test]
fn skipped_figures_keep_the_reports_text() {
    let dir = tempfile::tempdir().unwrap();
    let carbon = CarbonSettings::default();
    let ctx = context(&[], &carbon);
    let skipped: Vec<(&str, String)> = write_all(dir.path(), &no_runs(&ctx))
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.skipped.unwrap_or_default()))
        .collect();
    let want = [
        ("durations", "no ok runs"),
        ("power", "no run recorded average power per component"),
        (
            "power_vs_util",
            "no run recorded utilisation together with average power (gpu_util_mean/cpu_util_mean)",
        ),
        ("epochs", "no run recorded per-epoch figures"),
        (
            "energy_vs_macs_per_param",
            "0 model(s) with MACs/param and positive energy; need ≥ 2",
        ),
        (
            "energy_vs_batch_size",
            "every model ran a single batch size",
        ),
        (
            "pareto",
            "0 configuration(s) with accuracy and positive energy; need ≥ 2",
        ),
        (
            "predicted_vs_measured",
            "0 cross-validated prediction(s) with positive energy; the figure needs ≥ 2",
        ),
        (
            "search",
            "not a search (a grid sweep trains every configuration to the same epochs)",
        ),
    ];
    assert_eq!(
        skipped,
        want.iter()
            .map(|(n, w)| (*n, w.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        FigureError::NoPredictions {
            why: "one model only".into()
        }
        .to_string(),
        "no cross-validated predictions: one model only"
    );
    assert_eq!(
        FigureError::NoSearchCurves.to_string(),
        "no configuration recorded per-epoch validation accuracy with energy"
    );
}

#[test]
fn markers_and_colours_distinguish_sixteen_series() {
    let pairs: std::collections::HashSet<_> = (0..16)
        .map(|i| (color(i), format!("{:?}", marker(i))))
        .collect();
    assert_eq!(pairs.len(), 16);
    assert_eq!(dash(0), Dash::Solid);
    assert_eq!(dash(9), Dash::Dashed);
    assert_ne!((color(1), dash(1)), (color(9), dash(9)));
}

#[test]
fn wrapped_text_fits_its_width_and_keeps_every_character() {
    register_font();
    let style = tick_font();
    let name = "model-00-wide-residual-with-squeeze-excitation and more words";
    let lines = wrap_text(name, 150, &style);
    assert!(lines.len() >= 3, "{lines:?}");
    assert!(lines.iter().all(|l| measure(l, &style) <= 150), "{lines:?}");
    assert_eq!(lines.concat().replace(' ', ""), name.replace(' ', ""));
    let p = wrap_text("ρ = 0.89 (n = 16, p = 4.3e-6)", 150, &style);
    assert!(p.iter().any(|l| l.contains("4.3e-6")), "{p:?}");
    let one = wrap_text("abcdefghijklmnopqrstuvwxyz", 60, &style);
    assert!(one.len() > 1 && one.iter().all(|l| measure(l, &style) <= 60));
    let cut = fit_text(name, 100, &style);
    assert!(cut.ends_with('…') && measure(&cut, &style) <= 100, "{cut}");
}

#[test]
fn wrap_breaks_long_titles() {
    let text = "Duration per model — fashion-mnist, batch 64, sgd lr 0.05, 3 epochs";
    let l = wrap(text, 300, 20);
    assert!(l.len() >= 2, "{l:?}");
    assert!(
        l.iter().all(|x| text_px(x.chars().count(), 20) <= 300),
        "{l:?}"
    );
    assert_eq!(l.join(" "), text);
}

/// One model at several batch sizes, each run at `lr(batch)`, the energy growing with the batch.
fn batch_runs(lr: impl Fn(usize) -> f64) -> Vec<RunRecord> {
    let first: RunRecord = serde_json::from_str(
        include_str!("../../tests/data/quick/runs.jsonl")
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    [32, 64, 128]
        .into_iter()
        .map(|b| {
            let mut r = first.clone();
            r.spec.batch_size = b;
            r.spec.lr = lr(b);
            r.run_id = format!("b{b}");
            r
        })
        .collect()
}

#[test]
fn a_learning_rate_scaled_with_the_batch_size_draws_one_line_per_model() {
    let carbon = CarbonSettings::default();
    // Linear scaling: one rate per batch size, so one line over the three batch sizes.
    let scaled = batch_runs(|b| 0.05 * b as f64 / 128.0);
    let refs: Vec<&RunRecord> = scaled.iter().collect();
    let ctx = context(&refs, &carbon);
    let fig = batch::prepare(&no_runs(&ctx)).unwrap();
    assert_eq!(fig.series.len(), 1);
    assert_eq!(fig.series[0].points.len(), 3);
    // Two rates at each batch size: each rate is its own line.
    let mut both = batch_runs(|_| 0.01);
    both.extend(batch_runs(|_| 0.1).into_iter().map(|mut r| {
        r.run_id.push_str("-fast");
        r
    }));
    let refs: Vec<&RunRecord> = both.iter().collect();
    let ctx = context(&refs, &carbon);
    let fig = batch::prepare(&no_runs(&ctx)).unwrap();
    assert_eq!(fig.series.len(), 2);
    assert!(fig.series.iter().all(|s| s.points.len() == 3));
    assert!(
        fig.series[0].label.contains("lr 0.01"),
        "{}",
        fig.series[0].label
    );
}
