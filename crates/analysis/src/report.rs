//! `greenbench report DIR`: reads `DIR/runs.jsonl` (+ `manifest.json`) and writes `report.md`,
//! `report.html`, `figures/`, `tables/`, `runs.csv`, `summary.md` and `emissions.csv` into `DIR`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use greenbench_core::RunRecord;
use greenbench_core::RunStatus;

use crate::context::ReportContext;
use crate::correlation::{correlation_study, PairResult};
use crate::data::{self, EnergyBasis, Sweep};
use crate::estimator::{Estimator, FEATURES};
use crate::figures::{self, FigureInput, FigureOutcome};
use crate::groups::{config_groups, per_model};
use crate::no_validation;
use crate::numbers::{self, sig};
use crate::predict::{short_profile, ProfileRow};
use crate::search::{self, GridComparison, SearchSummary};
use crate::search_section;
use crate::stats::Stat;
use crate::{export, table, AnalysisError};

/// What to write.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Draw figures (PNG + SVG + PDF); off for quick text-only reports.
    pub figures: bool,
    /// Physical width of every figure in inches (3.5 single column, 7 double column); `None` =
    /// each figure's own screen size.
    pub figure_width_in: Option<f64>,
    /// Another sweep folder holding the same configurations run as a full grid: the Search
    /// section compares with its measured energy and best validation accuracy instead of a
    /// prediction.
    pub compare_grid: Option<PathBuf>,
    /// Leave runs flagged `interference` out of the statistics (they are listed either way).
    pub exclude_flagged: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            figures: true,
            figure_width_in: None,
            compare_grid: None,
            exclude_flagged: false,
        }
    }
}

/// What a report run produced.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    /// `DIR/report.md`.
    pub report: PathBuf,
    /// Every file written (report, exports, figures).
    pub files: Vec<PathBuf>,
    /// Records read (one per run id).
    pub runs_total: usize,
    /// Duplicate records of a run id left out.
    pub duplicates_dropped: usize,
    /// Runs the manifest expects that have no record.
    pub missing_runs: Option<usize>,
    /// Records with status ok (the statistics' input).
    pub runs_ok: usize,
    /// Runs left out of the statistics: (run id, status, error).
    pub not_ok: Vec<(String, RunStatus, Option<String>)>,
    /// Energy basis used.
    pub basis: EnergyBasis,
    /// Quality label of the training energies.
    pub quality: String,
    /// Each figure: written or why skipped.
    pub figures: Vec<FigureOutcome>,
}

fn pct(v: &Stat<f64>) -> String {
    match v {
        Ok(v) => format!("{} %", sig(*v, 3)),
        Err(e) => e.to_string(),
    }
}

/// Which k rows to print: all up to 10, else a spread.
fn profile_rows(rows: &[ProfileRow]) -> Vec<&ProfileRow> {
    if rows.len() <= 10 {
        return rows.iter().collect();
    }
    let last = rows.len();
    let keep = [1, 2, 3, 5, 10, 20, 50, 100, last / 4, last / 2, last];
    rows.iter().filter(|r| keep.contains(&r.k)).collect()
}

/// The sweep's name (from its first record), or "(empty)".
fn sweep_name(sweep: &Sweep) -> &str {
    sweep
        .records
        .first()
        .map_or("(empty)", |r| r.sweep.as_str())
}

/// Writes `runs.csv`, `emissions.csv` and `summary.md` into `dir`; returns their paths.
fn write_exports(
    dir: &Path,
    sweep: &Sweep,
    ctx: &ReportContext,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let csv = dir.join("runs.csv");
    export::runs_csv::write_runs_csv(&csv, &sweep.records, ctx)?;
    let emissions = dir.join("emissions.csv");
    export::codecarbon::write_emissions_csv(&emissions, &sweep.records, ctx)?;
    let summary = dir.join("summary.md");
    write(&summary, &export::markdown::summary_markdown(ctx))?;
    Ok(vec![csv, emissions, summary])
}

/// What the figures are drawn from: the ok runs, the energy basis and quality, and the
/// estimator's held-out predictions (or why there are none).
fn figure_input<'a>(
    ctx: &'a ReportContext<'a>,
    estimator: &Result<Estimator, AnalysisError>,
    opts: &ReportOptions,
) -> FigureInput<'a> {
    FigureInput {
        search: None,
        ctx,
        cv_predictions: estimator
            .as_ref()
            .ok()
            .and_then(|e| e.cv.as_ref())
            .map(|cv| cv.energy_predictions.clone())
            .unwrap_or_default(),
        width_in: opts.figure_width_in,
        cv_note: match estimator {
            Ok(e) => e.cv_note.clone(),
            Err(err) => Some(err.to_string()),
        },
    }
}

/// The records left out of the statistics (not ok, or without a training phase): (run id,
/// status, error).
fn not_ok_runs(records: &[RunRecord]) -> Vec<(String, RunStatus, Option<String>)> {
    records
        .iter()
        .filter_map(|r| {
            let why = crate::data::left_out_because(r)?;
            Some((
                r.run_id.clone(),
                r.status,
                Some(why).filter(|w| !w.is_empty()),
            ))
        })
        .collect()
}

/// Writes `report.html` into `dir`, inlining the SVG figures; returns its path.
fn write_html(
    dir: &Path,
    sweep: &Sweep,
    ctx: &ReportContext,
    study: &[PairResult],
    figs: &[FigureOutcome],
) -> Result<PathBuf, AnalysisError> {
    let html_path = dir.join("report.html");
    let html = export::html::report_html(
        &export::html::HtmlInput {
            name: sweep_name(sweep),
            records: &sweep.records,
            ctx,
            study,
            figures: figs,
        },
        &|p| std::fs::read_to_string(p).map_err(|e| AnalysisError::io("reading", p, e)),
    )?;
    write(&html_path, &html)?;
    Ok(html_path)
}

/// Writes the report and every export; see the module doc.
pub fn write_report(dir: &Path, opts: &ReportOptions) -> Result<ReportSummary, AnalysisError> {
    let mut sweep = Sweep::load(dir)?;
    if opts.exclude_flagged {
        crate::flagged::exclude_flagged(&mut sweep.records);
    }
    let search = search_of(&sweep);
    let grid = compare_grid(opts, &search)?;
    let runs = sweep.ok_runs();
    let ctx = ReportContext::new(&runs, &sweep.carbon);
    let basis = ctx.basis;
    let mut files = write_exports(dir, &sweep, &ctx)?;

    let study = correlation_study(&ctx);
    files.extend(export::latex::write_tables(
        &dir.join("tables"),
        &study,
        &ctx,
    )?);
    let profile = short_profile(&ctx);
    let estimator = Estimator::fit(&ctx);
    let figs = if opts.figures {
        let mut input = figure_input(&ctx, &estimator, opts);
        input.search = search.as_ref().and_then(|s| s.as_ref().ok()).cloned();
        figures::write_all(&dir.join("figures"), &input)?
    } else {
        Vec::new()
    };
    files.extend(figs.iter().flat_map(|f| f.files.clone()));

    let mut md = String::new();
    header(&mut md, &sweep, &ctx);
    excluded(&mut md, &sweep.records);
    crate::flagged::interference_section(&mut md, &sweep, opts.exclude_flagged);
    crate::flagged::short_window_note(&mut md, &sweep.records);
    if let Some(s) = &search {
        match s {
            Ok(s) => search_section::write(&mut md, s, grid.as_ref()),
            Err(why) => {
                let _ = writeln!(md, "## Search\n\nNot summarised: {why}\n");
            }
        }
    }
    crate::repeats_section::markdown(&mut md, &ctx);
    crate::ranges_section::write(&mut md, &ctx);
    correlations(&mut md, &study, &runs);
    profiling(&mut md, &profile, &ctx);
    estimator_section(&mut md, &estimator);
    carbon_section(&mut md, &sweep, &ctx);
    pareto_section(&mut md, &ctx);
    figures_section(&mut md, &figs, opts.figures);
    notes(&mut md, &sweep.records, &ctx);

    let report = dir.join("report.md");
    write(&report, &md)?;
    files.insert(0, report.clone());
    let html_path = write_html(dir, &sweep, &ctx, &study, &figs)?;
    files.insert(1, html_path);
    Ok(ReportSummary {
        report,
        files,
        runs_total: sweep.records.len(),
        duplicates_dropped: sweep.duplicates_dropped,
        missing_runs: sweep.missing_runs,
        runs_ok: runs.len(),
        not_ok: not_ok_runs(&sweep.records),
        basis,
        quality: ctx.quality,
        figures: figs,
    })
}

/// The search's course when the sweep's config has a non-grid strategy or a budget (or its
/// config cannot be read although a record continues another); `None` for a grid sweep.
fn search_of(sweep: &Sweep) -> Option<Result<SearchSummary, search::SearchConfigError>> {
    match search::search_config(sweep) {
        Ok(Some(cfg)) if search::is_search(&cfg) => {
            Some(Ok(search::summarize(&cfg, &sweep.records)))
        }
        Ok(_) => None,
        Err(why) => sweep
            .records
            .iter()
            .any(|r| r.spec.continues.is_some() || r.status == RunStatus::Skipped)
            .then_some(Err(why)),
    }
}

/// The full grid of `--compare-grid`, read; an error when it cannot be read or the sweep is not
/// a search (there is nothing to compare it with).
fn compare_grid(
    opts: &ReportOptions,
    search: &Option<Result<SearchSummary, search::SearchConfigError>>,
) -> Result<Option<GridComparison>, AnalysisError> {
    let Some(dir) = &opts.compare_grid else {
        return Ok(None);
    };
    if !matches!(search, Some(Ok(_))) {
        return Err(AnalysisError::Insufficient(format!(
            "--compare-grid {}: this sweep is not a search (its config has no [search] strategy other \
             than grid, and no budget), so there is nothing to compare the grid with; leave the flag out",
            dir.display()
        )));
    }
    GridComparison::load(dir).map(Some)
}

/// The idle baseline before and after the sweep, when both were measured (manifest
/// `idle_power_w` and `idle_power_end_w`), with the change in percent.
fn idle_drift(sweep: &Sweep) -> Option<String> {
    let m = sweep.manifest.as_ref()?;
    let before = m.idle_power_w.total_w?;
    let after = m.idle_power_end_w.as_ref()?.total_w?;
    let change = if before > 0.0 {
        format!(" ({:+.1} %)", (after / before - 1.0) * 100.0)
    } else {
        String::new()
    };
    Some(format!(
        "Idle power: {} W before the sweep, {} W after it{change}; net energy subtracts the first. \
         A large change means the machine's background load changed during the sweep.",
        sig(before, 3),
        sig(after, 3)
    ))
}

fn write(path: &Path, text: &str) -> Result<(), AnalysisError> {
    std::fs::write(path, text).map_err(|e| AnalysisError::io("writing", path, e))
}

fn header(md: &mut String, sweep: &Sweep, ctx: &ReportContext) {
    let (runs, basis, quality) = (ctx.runs, ctx.basis, &ctx.quality);
    let name = sweep_name(sweep);
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &sweep.records {
        *by_status.entry(r.status.name()).or_default() += 1;
    }
    let statuses = by_status
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(md, "# greenbench report: {name}\n");
    let _ = writeln!(
        md,
        "Folder `{}`: {} records ({statuses}); **{} ok runs** enter the statistics.\n",
        sweep.dir.display(),
        sweep.records.len(),
        runs.len()
    );
    if sweep.duplicates_dropped > 0 {
        let _ = writeln!(
            md,
            "**Warning:** {} duplicate record(s) of the same run id were dropped (an ok record kept \
             over a failed one, else the last); `runs.jsonl` was written by two sweeps at once.\n",
            sweep.duplicates_dropped
        );
    }
    if let Some(missing) = sweep.missing_runs.filter(|&m| m > 0) {
        let _ = writeln!(
            md,
            "**Incomplete sweep:** {missing} run(s) of the sweep have no record yet; this report \
             covers the {} that do. Run the sweep command again to continue it.\n",
            sweep.records.len()
        );
    }
    let _ = writeln!(
        md,
        "**Energy used throughout: {} training energy, quality {quality}.** {}\n",
        basis.name(),
        EnergyBasis::choose_explained(runs).1
    );
    let _ = writeln!(md, "{}\n", no_validation::accuracy_sources(runs));
    if let Some(drift) = idle_drift(sweep) {
        let _ = writeln!(md, "{drift}\n");
    }
    let mut hosts: Vec<String> = runs
        .iter()
        .map(|r| {
            let gpu = r
                .host
                .gpu
                .as_deref()
                .map(|g| format!(" + {g}"))
                .unwrap_or_default();
            format!("{} ({} cores{gpu})", r.host.cpu_model, r.host.cores)
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    if !hosts.is_empty() {
        let _ = writeln!(md, "Hosts: {}.\n", hosts.join("; "));
    }
    let mut meters: Vec<String> = runs
        .iter()
        .flat_map(|r| r.meters.iter().map(|(k, v)| format!("{k}: {v}")))
        .collect();
    meters.sort();
    meters.dedup();
    if !meters.is_empty() {
        let _ = writeln!(md, "Meters: {}.\n", meters.join("; "));
    }
}

fn excluded(md: &mut String, records: &[RunRecord]) {
    let bad: Vec<(&RunRecord, String)> = records
        .iter()
        .filter_map(|r| Some((r, crate::data::left_out_because(r)?)))
        .collect();
    if bad.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Runs left out of the statistics\n\n| run | model | batch | status | error |\n|---|---|---:|---|---|");
    for (r, why) in bad.iter().take(50) {
        let err = why.replace(['\n', '|'], " ");
        let err: String = err.chars().take(120).collect();
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {err} |",
            r.run_id,
            r.spec.model,
            r.spec.batch_size,
            r.status.name()
        );
    }
    if bad.len() > 50 {
        let _ = writeln!(md, "\n… and {} more (see runs.csv).", bad.len() - 50);
    }
    md.push('\n');
}

fn correlations(md: &mut String, study: &[PairResult], runs: &[&RunRecord]) {
    let groups = config_groups(runs);
    let (setting, models) = per_model(&groups);
    let _ = writeln!(md, "## Correlations beside the paper\n");
    let _ = writeln!(
        md,
        "Every point is a configuration (one model under one setting) with its repeats averaged. \
         Pearson r of the means, Pearson r of their logarithms (values spanning decades are then not driven by a few \
         large ones) and Spearman ρ (average ranks for ties), each with n (configurations), two-sided p-value and its \
         method, and 95 % CI. \
         p: exact permutation test for n ≤ {exact} (all n! orderings of y against x; the fraction with |r| at least the \
         observed one, the observed ordering included, so an exact p has a floor: 1/n! for Pearson r (1/24 with n = 4) \
         and 2/n! for Spearman ρ (1/12 with n = 4), whose reversed ranks reach the same |ρ|, as reversed values do for r \
         when x or y is evenly spaced), else the t distribution with n − 2 df, which has no such floor and is printed as \
         computed (1.5e-11 is 1.5 × 10⁻¹¹). \
         CI: bias-corrected and accelerated (BCa) bootstrap over {boot} resamples (fixed seed) that draw the \
         configurations, then each drawn configuration's repeats, so the interval carries the measurement noise \
         (centred on the configuration-level resamples, so the noise widens it without moving it); resamples with a \
         constant series are skipped. \
         Pairs marked *model* use one point per model under the setting with the most models: {} ({} models). \
         The paper's coefficient is in bold. {rule} \
         The batch-size row correlates batch size with each configuration's training energy relative to its model's \
         mean at its smallest batch (models that ran two batch sizes or more), since models' energies span decades and \
         pooled absolute energies would rank the models, not the batch sizes; it then gives each batch size's mean \
         relative energy with the mean test accuracy there, since energy per epoch alone ignores that large batches \
         may not learn.\n",
        setting.map(|c| c.to_string()).unwrap_or_else(|| "none".into()),
        models.len(),
        rule = crate::correlation::RULE,
        exact = crate::resample::EXACT_MAX_N,
        boot = crate::resample::BOOTSTRAP_RESAMPLES,
    );
    md.push_str(&table::markdown::render(&table::correlations::build(study)));
    md.push('\n');
}

fn profiling(md: &mut String, rows: &[ProfileRow], ctx: &ReportContext) {
    let (basis, quality) = (ctx.basis, &ctx.quality);
    let _ = writeln!(
        md,
        "## Short profiling: predicting a run from its first k epochs\n"
    );
    if rows.is_empty() {
        let _ = writeln!(md, "Not computed: no ok run has more than one epoch.\n");
        return;
    }
    let _ = writeln!(
        md,
        "Prediction = mean of the first k epochs × epochs; error = MAPE against the run's measured total \
         ({} energy, {quality}; wall time). The paper claims short profiling works but gives no error figure.\n",
        basis.name()
    );
    let _ = writeln!(
        md,
        "| k (epochs profiled) | runs | energy MAPE | time MAPE |\n|---:|---:|---:|---:|"
    );
    for r in profile_rows(rows) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.k,
            r.runs,
            pct(&r.energy_mape_pct),
            pct(&r.duration_mape_pct)
        );
    }
    md.push('\n');
}

fn estimator_section(md: &mut String, est: &Result<Estimator, AnalysisError>) {
    let _ = writeln!(md, "## Parameter estimator\n");
    let e = match est {
        Ok(e) => e,
        Err(err) => {
            let _ = writeln!(md, "Not fitted: {err}\n");
            return;
        }
    };
    estimator_method(md, e);
    let _ = writeln!(
        md,
        "| term | energy coefficient | time coefficient |\n|---|---:|---:|"
    );
    let _ = writeln!(
        md,
        "| intercept | {:.4} | {:.4} |",
        e.energy_fit.coefficients[0], e.duration_fit.coefficients[0]
    );
    for (i, name) in FEATURES.iter().enumerate() {
        // A term outside a fit: the data's reason (not varied, not recorded, collinear), else
        // not chosen for this target.
        let cell = |fit: &crate::ridge::RidgeFit| {
            if fit.terms.contains(&i) {
                format!("{:.4}", fit.coefficients[i + 1])
            } else {
                let why = e.dropped_reason(i);
                format!("— ({})", why.unwrap_or("not chosen by cross-validation"))
            }
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} |",
            cell(&e.energy_fit),
            cell(&e.duration_fit)
        );
    }
    md.push('\n');
    match &e.cv {
        Some(cv) => {
            let _ = writeln!(
                md,
                "Leave-one-model-out cross-validation ({} folds), nested: terms and λ chosen again without the held-out \
                 model, so this error is not tuned on it: energy MAPE {}, Spearman ρ(predicted, measured) {}; \
                 time MAPE {}, ρ {}.\n",
                cv.folds,
                pct(&cv.energy.mape_pct),
                numbers::correlation(&cv.energy.spearman),
                pct(&cv.duration.mape_pct),
                numbers::correlation(&cv.duration.spearman)
            );
        }
        None => {
            let _ = writeln!(
                md,
                "No cross-validation: {}.\n",
                e.cv_note.as_deref().unwrap_or("no held-out predictions")
            );
        }
    }
    let _ = writeln!(
        md,
        "Prediction interval (`greenbench predict`): × [{:.2}, {:.2}] on energy, {}.\n",
        e.energy_log_band.0.exp(),
        e.energy_log_band.1.exp(),
        e.band_source
    );
}

/// The estimator's method paragraph: the model, how terms and λ were chosen, what was chosen
/// and the cross-validation error that chose it.
fn estimator_method(md: &mut String, e: &Estimator) {
    // Terms and λ of a fit; no λ without terms (nothing to shrink).
    let chosen = |fit: &crate::ridge::RidgeFit| -> String {
        if fit.terms.is_empty() {
            "no term (proportional to epochs × samples)".into()
        } else {
            let names: Vec<&str> = fit.terms.iter().map(|&i| FEATURES[i]).collect();
            format!("{}, λ = {}", names.join(", "), fit.lambda)
        }
    };
    let err = |v: Option<f64>| match v {
        Some(v) => format!("leave-one-model-out MAPE {}", pct(&Ok(v))),
        None => {
            "no cross-validation with one model: every varied term, smallest λ that fits".into()
        }
    };
    let lambdas = crate::ridge::LAMBDAS
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        md,
        "Log-linear ridge regression: ln E = ln epochs + ln samples + b0 + Σ bᵢ·ln xᵢ (energy taken proportional to \
         epochs × samples unless the data say otherwise; regressors standardised, intercept not penalised), fitted on \
         {} configuration means ({} ok runs, each configuration's repeats averaged into one point) of {} models; {} energy ({}). Terms and penalty λ are chosen by leave-one-model-out cross-validation \
         among {} candidates (every subset of the {} varied terms × λ ∈ {{{lambdas}}}), ties going to fewer terms, then to the smaller λ.\n",
        e.configurations,
        e.runs,
        e.models,
        e.basis.name(),
        e.quality,
        e.candidates,
        e.varied.len(),
    );
    let _ = writeln!(
        md,
        "Chosen for energy: {} ({}; R² in-sample, of ln energy per epoch·sample = {:.3}). \
         For time: {} ({}).\n",
        chosen(&e.energy_fit),
        err(e.energy_selection_error_pct),
        e.energy_fit.r_squared,
        chosen(&e.duration_fit),
        err(e.duration_selection_error_pct),
    );
}

fn carbon_section(md: &mut String, sweep: &Sweep, ctx: &ReportContext) {
    let (runs, basis, quality) = (ctx.runs, ctx.basis, &ctx.quality);
    let c = &sweep.carbon;
    let _ = writeln!(md, "## Carbon\n");
    let _ = writeln!(
        md,
        "g CO2-eq = kWh × {} g/kWh{} × PUE {} (source: {}). Energy: {} ({quality}).\n",
        sig(c.intensity_g_per_kwh, 3),
        if c.per_run.is_empty() {
            ""
        } else {
            " (mean over runs; each run uses the mean intensity of its own start–end window, listed in runs.csv and emissions.csv)"
        },
        c.pue,
        c.source,
        basis.name()
    );
    // (energy J, grams) summed over runs, each at its own intensity.
    let total = |it: &mut dyn Iterator<Item = (&RunRecord, f64)>| {
        it.fold((0.0, 0.0), |a, (r, j)| (a.0 + j, a.1 + c.grams_for(r, j)))
    };
    let train = total(&mut runs.iter().filter_map(|r| Some((*r, basis.train_j(r)?))));
    let infer = total(
        &mut runs
            .iter()
            .filter_map(|r| Some((*r, basis.inference_j(r)?))),
    );
    let others = total(
        &mut sweep
            .records
            .iter()
            .filter(|r| r.status != RunStatus::Ok)
            .filter_map(|r| Some((r, r.train.as_ref()?.energy.total_j?))),
    );
    let _ = writeln!(md, "| phase | energy (kWh) | CO2-eq (g) |\n|---|---:|---:|");
    for (name, (j, g)) in [
        ("training, ok runs", train),
        ("inference, ok runs", infer),
        ("total, ok runs", (train.0 + infer.0, train.1 + infer.1)),
    ] {
        let _ = writeln!(md, "| {name} | {} | {} |", sig(j / 3.6e6, 3), sig(g, 3));
    }
    if others.0 > 0.0 {
        let _ = writeln!(
            md,
            "| training, runs not ok (raw) | {} | {} |",
            sig(others.0 / 3.6e6, 3),
            sig(others.1, 3)
        );
    }
    let _ = writeln!(md, "\nPer model and setting: see [summary.md](summary.md); per run: [runs.csv](runs.csv), [emissions.csv](emissions.csv) (CodeCarbon layout).\n");
}

fn pareto_section(md: &mut String, ctx: &ReportContext) {
    let runs = ctx.runs;
    let p = table::pareto::build(ctx);
    let _ = writeln!(md, "## Accuracy–energy Pareto front\n");
    if p.points == 0 {
        let _ = writeln!(
            md,
            "No configuration has both {} and energy.\n",
            p.source.name()
        );
        return;
    }
    let why = match p.source {
        data::AccuracySource::Validation => "validation accuracy, on the split held out of training, so the front is not chosen on the test set".to_string(),
        data::AccuracySource::Test => format!("test accuracy: {}", crate::no_validation::fallback_clause(runs)),
    };
    let _ = writeln!(
        md,
        "{} of {} configurations (model × setting, mean over repeats) are not beaten on both lower training energy and higher {why}:\n",
        p.front,
        p.points
    );
    if runs.iter().any(|r| r.spec.continues.is_some()) {
        let _ = writeln!(md, "A search's later-rung runs count only their own epochs here; the Search section sums each configuration over its rungs.\n");
    }
    md.push_str(&table::markdown::render(&p.table));
    md.push('\n');
}

fn figures_section(md: &mut String, figs: &[FigureOutcome], enabled: bool) {
    let _ = writeln!(md, "## Figures\n");
    if !enabled {
        let _ = writeln!(md, "Figures were not drawn (disabled).\n");
        return;
    }
    for f in figs {
        match &f.skipped {
            Some(why) => {
                let _ = writeln!(md, "- **{}** — skipped: {why}.", f.title);
            }
            None => {
                let _ = writeln!(md, "- **{}** — [PNG](figures/{n}.png), [SVG](figures/{n}.svg), [PDF](figures/{n}.pdf)\n\n  ![{}](figures/{n}.png)\n", f.title, f.title, n = f.name);
            }
        }
    }
    md.push('\n');
}

fn notes(md: &mut String, records: &[RunRecord], ctx: &ReportContext) {
    let (runs, basis, quality) = (ctx.runs, ctx.basis, &ctx.quality);
    let _ = writeln!(md, "## Notes on energy quality\n");
    let _ = writeln!(
        md,
        "- Every energy number above is **{} training energy, {quality}** unless labelled otherwise. \
         *measured* = hardware counters (RAPL, NVML); *estimated* = a power model of the worker's CPU time \
         and memory in use (the meters line above names it and its sources); *missing* values are absent, never 0.",
        basis.name()
    );
    let estimated = runs.iter().any(|r| {
        basis.train(r).and_then(|e| e.quality) == Some(greenbench_core::Quality::Estimated)
    });
    if estimated {
        let _ = writeln!(
            md,
            "- Estimated energy is computed from the worker's CPU time, so its correlation with training time is high **by construction**; \
             it does not confirm the paper's r ≈ 0.99. Rank-based findings (MACs/param, batch size) still reflect where time goes."
        );
    }
    let mut per_comp: BTreeMap<String, String> = BTreeMap::new();
    for r in runs {
        if let Some(e) = basis.train(r) {
            for (c, q) in &e.qualities {
                per_comp
                    .entry(c.name().to_string())
                    .or_insert_with(|| q.to_string());
            }
        }
    }
    if !per_comp.is_empty() {
        let s = per_comp
            .iter()
            .map(|(c, q)| format!("{c} {q}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(md, "- Per component (first ok run that has it): {s}.");
    }
    let _ = writeln!(
        md,
        "- Records read: {}; statistics use only status `ok`.",
        records.len()
    );
}
