//! Helpers shared by the benchmark examples (not an example itself: Cargo builds only
//! `examples/*.rs` and `examples/*/main.rs`).

/// The value after `name` on the command line (`--threads 2` → `Some("2")`), if given.
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}
