//! The calibration ladder's load: threads that multiply small f32 matrices until told to stop
//! (the same kind of work as training: dense multiply–adds that keep a core's vector units busy).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::calibrate::LoadDriver;
use crate::calibration::CalibrationError;

/// Side of the square matrices each thread multiplies (3 × 64 KiB: fits in L2).
const N: usize = 128;

/// `c = a · b` for `N × N` row-major matrices, i-k-j order (the compiler vectorises the inner loop).
fn matmul(a: &[f32], b: &[f32], c: &mut [f32]) {
    c.fill(0.0);
    for i in 0..N {
        for k in 0..N {
            let aik = a[i * N + k];
            let row = &b[k * N..(k + 1) * N];
            for (cj, bj) in c[i * N..(i + 1) * N].iter_mut().zip(row) {
                *cj += aik * bj;
            }
        }
    }
}

/// A busy thread: multiplies until `stop`; returns a checksum so the work is not optimised away.
fn spin(stop: &AtomicBool) -> f32 {
    let a: Vec<f32> = (0..N * N).map(|i| (i % 7) as f32 * 0.01).collect();
    let mut b: Vec<f32> = (0..N * N).map(|i| (i % 5) as f32 * 0.02).collect();
    let mut c = vec![0.0f32; N * N];
    let mut sum = 0.0f32;
    while !stop.load(Ordering::Relaxed) {
        matmul(&a, &b, &mut c);
        sum += c[N + 1];
        // Feed the result back, scaled, so every product depends on the last one.
        for (bj, cj) in b.iter_mut().zip(&c) {
            *bj = cj * 1e-3;
        }
    }
    std::hint::black_box(sum)
}

/// Runs a number of busy threads (see [`LoadDriver`]); all stop when dropped.
pub struct BusyLoad {
    logical_cpus: usize,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<f32>>,
}

impl BusyLoad {
    /// A load driver for a host with `logical_cpus` logical CPUs, running nothing yet.
    pub fn new(logical_cpus: usize) -> Self {
        BusyLoad {
            logical_cpus,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        }
    }

    /// Threads running now.
    pub fn running(&self) -> usize {
        self.threads.len()
    }

    fn stop_all(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stop = Arc::new(AtomicBool::new(false));
    }
}

impl LoadDriver for BusyLoad {
    fn logical_cpus(&self) -> usize {
        self.logical_cpus
    }

    fn set_threads(&mut self, threads: usize) -> Result<(), CalibrationError> {
        self.stop_all();
        for i in 0..threads {
            let stop = self.stop.clone();
            let handle = std::thread::Builder::new()
                .name(format!("greenbench-load-{i}"))
                .spawn(move || spin(&stop))
                .map_err(|e| {
                    CalibrationError::Ladder(format!(
                        "cannot start busy thread {} of {threads}: {e}; lower the ladder's top (--max-threads)",
                        i + 1
                    ))
                });
            match handle {
                Ok(h) => self.threads.push(h),
                Err(e) => {
                    self.stop_all();
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

impl Drop for BusyLoad {
    fn drop(&mut self) {
        self.stop_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_is_a_matrix_product() {
        let mut a = vec![0.0f32; N * N];
        let mut b = vec![0.0f32; N * N];
        let mut c = vec![9.0f32; N * N];
        a[1] = 2.0; // a[0][1]
        b[N + 3] = 5.0; // b[1][3]
        matmul(&a, &b, &mut c);
        assert_eq!(c[3], 10.0);
        assert_eq!(c.iter().filter(|v| **v != 0.0).count(), 1);
    }

    #[test]
    fn threads_start_and_stop() {
        let mut load = BusyLoad::new(4);
        load.set_threads(2).unwrap();
        assert_eq!(load.running(), 2);
        load.set_threads(1).unwrap();
        assert_eq!(load.running(), 1);
        load.set_threads(0).unwrap();
        assert_eq!(load.running(), 0);
    }
}
