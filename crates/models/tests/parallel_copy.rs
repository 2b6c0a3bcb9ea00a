//! The vendored candle-core's parallel copies (vendor/README.md): copies of at least 2¹⁶
//! elements are split over the rayon pool, contiguous ones in equal parts, strided ones row by
//! row. A concatenation along channels, a channel slice made contiguous and a large contiguous
//! copy give exactly the values an element-by-element reference gives, on pools of one, two and
//! three threads, for sizes on both sides of the threshold and row counts that do not divide
//! evenly.

use candle_core::{Device, Result, Tensor};

/// `n × c × hw` values, each different, so a misplaced element changes the result.
fn ramp(n: usize, c: usize, hw: usize, from: f32) -> Result<Tensor> {
    let v: Vec<f32> = (0..n * c * hw).map(|i| from + i as f32).collect();
    Tensor::from_vec(v, (n, c, hw), &Device::Cpu)
}

fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

fn check(n: usize, ca: usize, cb: usize, hw: usize) -> Result<()> {
    let a = ramp(n, ca, hw, 0.0)?;
    let b = ramp(n, cb, hw, 1e7)?;
    let (av, bv) = (values(&a)?, values(&b)?);
    // Reference: sample by sample, a's channels then b's.
    let mut want = Vec::new();
    for s in 0..n {
        want.extend_from_slice(&av[s * ca * hw..][..ca * hw]);
        want.extend_from_slice(&bv[s * cb * hw..][..cb * hw]);
    }
    let cat = Tensor::cat(&[&a, &b], 1)?;
    assert_eq!(values(&cat)?, want, "cat of {n}×({ca}+{cb})×{hw}");
    let slice = cat.narrow(1, ca, cb)?.contiguous()?;
    assert_eq!(values(&slice)?, bv, "channel slice of {n}×({ca}+{cb})×{hw}");
    let whole = cat.narrow(0, 0, n)?.copy()?;
    assert_eq!(
        values(&whole)?,
        want,
        "contiguous copy of {n}×({ca}+{cb})×{hw}"
    );
    Ok(())
}

#[test]
fn large_copies_split_over_the_pool_keep_every_element_in_place() -> Result<()> {
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(candle_core::Error::wrap)?;
        pool.install(|| -> Result<()> {
            // Below the threshold (serial), just above it, many short rows, few long rows,
            // one sample (a single row), and odd sizes.
            check(2, 3, 5, 7)?;
            check(4, 32, 96, 256)?;
            check(33, 17, 19, 130)?;
            check(3, 300, 257, 101)?;
            check(1, 300, 300, 256)?;
            check(7, 13, 1, 1031)
        })?;
    }
    Ok(())
}
