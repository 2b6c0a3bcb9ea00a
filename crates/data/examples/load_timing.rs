//! Loads every registered dataset that is present and prints its size and load time.
//!
//! `cargo run --release -p greenbench-data --example load_timing [names…]`

use std::time::Instant;

fn main() {
    let root = greenbench_data::default_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<String> = if args.is_empty() {
        greenbench_data::names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args
    };
    for name in names {
        let t = Instant::now();
        match greenbench_data::load(&name, &root, None, None) {
            Ok(d) => {
                let mb = (d.train.inputs.len() + d.test.inputs.len()) as f64 * 4.0 / 1e6;
                println!(
                    "{name}: {} train + {} test, shape {:?}, {} classes, {mb:.0} MB of f32 inputs, loaded in {:.2} s",
                    d.train.len,
                    d.test.len,
                    d.sample_shape(),
                    d.classes,
                    t.elapsed().as_secs_f64()
                );
            }
            Err(e) => println!("{name}: not loaded: {e}"),
        }
    }
}
