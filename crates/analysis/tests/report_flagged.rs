//! Runs flagged `interference` are listed in the report with the others' share of the machine;
//! they stay in the statistics unless `--exclude-flagged` leaves them out, as a run with an
//! impossible energy is (listed among the runs left out, with the reason). Phases shorter than
//! the meter resolves are named too.

mod common;

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::{write_report, ReportOptions};
use greenbench_core::Interference;

fn options(exclude_flagged: bool) -> ReportOptions {
    ReportOptions {
        figures: false,
        exclude_flagged,
        ..Default::default()
    }
}

#[test]
fn flagged_runs_are_listed_and_left_out_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = sweep(&Shape {
        models: 2,
        batch_sizes: vec![16, 64],
        repeats: 2,
        ..Shape::default()
    });
    let n = records.len();
    let i = Interference {
        window_s: 10.0,
        cpus: 2,
        others_cpu_s: 8.0,
        others_share: 0.4,
        steal_share: None,
        load_avg_1m: Some(3.0),
        quiet_wait_s: None,
    };
    records[1].flags.extend(i.run_flag(0.05));
    records[1].interference = Some(i);
    records[2].flags.push(greenbench_core::Flag {
        field: "inference.window".into(),
        reason: "the inference window of 0.250 s is shorter than the meter resolves".into(),
    });
    let short = records[2].run_id.clone();
    let flagged = records[1].run_id.clone();
    write_sweep(dir.path(), &records, None);

    let kept = write_report(dir.path(), &options(false)).unwrap();
    assert_eq!(kept.runs_ok, n, "in the statistics by default");
    let md = std::fs::read_to_string(&kept.report).unwrap();
    assert!(md.contains("## Runs measured beside other work"), "{md}");
    assert!(md.contains(&format!("| {flagged} |")), "{md}");
    assert!(md.contains("| 40.0 |"), "{md}");
    // report.html lists the same runs, from the same table.
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("<h2>Runs measured beside other work</h2>"),
        "{html}"
    );
    assert!(html.contains(&flagged) && html.contains(">40.0<"), "{html}");
    assert!(
        md.contains("`greenbench report --exclude-flagged` leaves them out"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "**Phases shorter than the meter resolves** (1): `{short}` (inference)"
        )),
        "{md}"
    );

    let left = write_report(dir.path(), &options(true)).unwrap();
    assert_eq!(left.runs_ok, n - 1);
    let (id, _, why) = &left.not_ok[0];
    assert_eq!(id, &flagged);
    let why = why.as_deref().unwrap_or_default();
    assert!(
        why.contains("--exclude-flagged: interference: other processes used 40.0 %"),
        "{why}"
    );
    let md = std::fs::read_to_string(&left.report).unwrap();
    assert!(
        md.contains("left out of the statistics (`--exclude-flagged`)"),
        "{md}"
    );
    // The records on disk keep their own flags only.
    let on_disk = greenbench_core::read_records(&dir.path().join("runs.jsonl")).unwrap();
    assert!(on_disk
        .iter()
        .all(|r| r.flags.iter().all(|f| f.field != "excluded")));
}
