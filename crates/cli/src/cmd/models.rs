//! `greenbench models`: the zoo with parameters and MACs.

use anyhow::Context;
use greenbench_models::describe;

/// Arguments of `greenbench models`.
#[derive(clap::Args)]
pub struct ModelsArgs {
    /// Print a JSON array of objects with keys name, family, params, macs_per_sample,
    /// macs_per_param, input_shape.
    #[arg(long)]
    json: bool,
}

/// Lists every model of the zoo, built on the CPU with its default input to count parameters.
pub fn run(a: ModelsArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for e in greenbench_models::list() {
        let s = describe(&e.name, &e.default_input)
            .with_context(|| format!("describing model `{}`", e.name))?;
        rows.push(s);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<18} {:<12} {:>12} {:>16} {:>12}  input",
        "model", "family", "params", "MACs/sample", "MACs/param"
    );
    for r in &rows {
        let shape: Vec<String> = r.input_shape.iter().map(|d| d.to_string()).collect();
        println!(
            "{:<18} {:<12} {:>12} {:>16} {:>12.1}  {}",
            r.name,
            r.family,
            r.params,
            r.macs_per_sample,
            r.macs_per_param,
            shape.join("×")
        );
    }
    println!("\nMACs: multiply-accumulates of convolutions, linear layers and attention matmuls per sample \
              (batch-norm, activations and pooling not counted). MLPs are listed for 1×28×28 input; \
              custom MLPs: mlp-<w1>x<w2>….");
    Ok(())
}
