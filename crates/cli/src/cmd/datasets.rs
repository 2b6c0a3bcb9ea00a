//! `greenbench datasets`: which datasets are present, and how to fetch the rest.

use std::path::PathBuf;

/// Arguments of `greenbench datasets`.
#[derive(clap::Args)]
pub struct DatasetsArgs {
    /// Datasets folder (default: $GREENBENCH_DATASETS or ./datasets).
    #[arg(long, env = "GREENBENCH_DATASETS")]
    datasets: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Lists the registry with availability.
pub fn run(a: DatasetsArgs) -> anyhow::Result<()> {
    let root = a.datasets.unwrap_or_else(greenbench_data::default_root);
    let mut rows = Vec::new();
    for name in greenbench_data::names() {
        let Some(info) = greenbench_data::info(name) else {
            continue;
        };
        let located = greenbench_data::locate(name, &root, None);
        rows.push(serde_json::json!({
            "name": name,
            "present": located.is_ok(),
            "location": located.as_ref().ok().map(|p| p.display().to_string()),
            "why_not": located.as_ref().err().map(|e| e.to_string()),
            "sample_shape": info.sample_shape,
            "classes": info.classes,
            "licence": info.licence,
            "description": info.description,
            "fetch": info.fetch_hint,
        }));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("datasets under {}", root.display());
    for r in &rows {
        let present = r["present"].as_bool().unwrap_or(false);
        println!(
            "  {:<18} {:<8} {}",
            r["name"].as_str().unwrap_or(""),
            if present { "present" } else { "missing" },
            r["description"].as_str().unwrap_or("")
        );
        if present {
            println!(
                "  {:<18}          at {}",
                "",
                r["location"].as_str().unwrap_or("")
            );
        } else {
            println!(
                "  {:<18}          {}",
                "",
                r["why_not"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}
