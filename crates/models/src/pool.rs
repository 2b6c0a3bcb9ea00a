//! Where a training or inference step runs on the CPU: on a thread of rayon's pool, with the
//! other pool threads optionally kept on their cores for the step.
//!
//! Between two parallel loops an idle rayon thread calls `sched_yield` up to 33 times before it
//! sleeps. On a core shared with a low-priority process (a `nice 19` job) each yield hands the
//! core to that process for its time slice, and the thread is not back when the next loop's
//! work arrives, so every loop waits for a scheduler tick. `GREENBENCH_POOL_SPIN_US` keeps the
//! other threads busy instead: each runs a job that steals the step's work (`rayon::yield_now`)
//! and spins without yielding the core while there is none, until the step ends or it has found
//! no work for that many microseconds (then rayon's own idle path takes over).
//!
//! Unset, it spins [`AUTO_SPIN`] while no other task waits for a core: Linux's CPU pressure
//! (`/proc/pressure/cpu`, the share of time some runnable task waited), read at most every
//! [`PRESSURE_RECHECK`], stays below [`QUIET_PRESSURE`]. A busy process beside the run, even a
//! `nice 19` one, waits whenever the compute threads hold both cores, which turns the spin off;
//! on an idle machine the short steps keep it (MLP inference +25 %). Where the file is missing
//! (PSI off, not Linux) nothing spins. `0` turns spinning off, any other number fixes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use greenbench_core::POOL_SPIN_ENV;
use greenbench_core::QUIET_PRESSURE;

/// How long the other pool threads spin for a step, as `GREENBENCH_POOL_SPIN_US` sets it (read
/// once per process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolSpin {
    /// Unset or `auto`: [`AUTO_SPIN`] while the CPU pressure is below [`QUIET_PRESSURE`].
    Auto,
    /// `0` (or a value that is not a number): no spinning.
    Off,
    /// A number of microseconds.
    Fixed(Duration),
}

/// The spin of [`PoolSpin::Auto`] on a quiet machine ([`greenbench_core::AUTO_SPIN_US`]).
const AUTO_SPIN: Duration = Duration::from_micros(greenbench_core::AUTO_SPIN_US);

/// How often [`PoolSpin::Auto`] reads the CPU pressure again.
const PRESSURE_RECHECK: Duration = Duration::from_millis(100);

/// The setting `GREENBENCH_POOL_SPIN_US` gives, read once per process.
pub fn pool_spin() -> PoolSpin {
    static SPIN: OnceLock<PoolSpin> = OnceLock::new();
    *SPIN.get_or_init(|| parse_spin(std::env::var(POOL_SPIN_ENV).ok().as_deref()))
}

/// [`pool_spin`]'s reading of the variable's value (`None`: unset).
fn parse_spin(value: Option<&str>) -> PoolSpin {
    match value.map(str::trim) {
        None | Some("auto") | Some("") => PoolSpin::Auto,
        Some(v) => match v.parse::<u64>() {
            Ok(0) | Err(_) => PoolSpin::Off,
            Ok(us) => PoolSpin::Fixed(Duration::from_micros(us)),
        },
    }
}

/// The spin for the step about to run under `setting`.
fn step_spin(setting: PoolSpin) -> Option<Duration> {
    match setting {
        PoolSpin::Off => None,
        PoolSpin::Fixed(d) => Some(d),
        PoolSpin::Auto => quiet().then_some(AUTO_SPIN),
    }
}

/// Whether the CPU pressure since the last reading (at most [`PRESSURE_RECHECK`] old) was below
/// [`QUIET_PRESSURE`]; `false` where it cannot be read.
fn quiet() -> bool {
    /// The last reading: when, the pressure file's cumulative `some` total (µs), the verdict.
    static LAST: Mutex<Option<(Instant, u64, bool)>> = Mutex::new(None);
    let Ok(mut last) = LAST.try_lock() else {
        return false;
    };
    let now = Instant::now();
    match *last {
        Some((at, _, verdict)) if now.duration_since(at) < PRESSURE_RECHECK => verdict,
        previous => {
            let Some(total) = read_pressure_total() else {
                *last = Some((now, 0, false));
                return false;
            };
            let verdict = previous.is_some_and(|(at, before, _)| {
                let wall = now.duration_since(at).as_micros() as f64;
                wall > 0.0 && (total.saturating_sub(before) as f64) < QUIET_PRESSURE * wall
            });
            *last = Some((now, total, verdict));
            verdict
        }
    }
}

/// The cumulative time (µs) some runnable task waited for a core, from `/proc/pressure/cpu`.
fn read_pressure_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    pressure_total(&text)
}

/// The `total=` of the `some` line of a PSI file's text.
fn pressure_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    line.split_whitespace()
        .find_map(|f| f.strip_prefix("total="))?
        .parse()
        .ok()
}

/// How the calling thread relates to rayon's global pool after [`join_compute_pool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMembership {
    /// The calling thread became thread 0 of the global pool.
    Joined,
    /// The global pool existed already (something used rayon before): steps are handed to it
    /// and back as before.
    PoolExisted,
}

/// Makes the calling thread (the one that will run the training or inference steps: a sweep
/// worker's main thread, a benchmark's) one of the `RAYON_NUM_THREADS` threads of rayon's global
/// pool, so that each step's [`on_pool`] runs on it directly instead of handing the step to a
/// pool thread and waiting for it. The hand-off woke a sleeping thread and was woken back once
/// per step: at mlp-small's 0.1 ms inference steps (batch 32) a fifth of the time, on the
/// 2-vCPU VM in docs/performance.md. Call it before anything uses rayon; later, the pool
/// exists and this reports [`PoolMembership::PoolExisted`].
pub fn join_compute_pool() -> PoolMembership {
    match rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
    {
        Ok(()) => PoolMembership::Joined,
        Err(_) => PoolMembership::PoolExisted,
    }
}

/// Runs `f` on a thread of rayon's pool when `cpu` (`rayon::scope`; on the calling thread
/// otherwise). The parallel loops of every op (candle's, the custom kernels', `gemm`'s) then
/// start on a pool thread, where the other threads steal work directly, instead of being handed
/// from the caller's thread to the pool and back once per op — hundreds of hand-offs per step,
/// which cost a third of a step of EfficientNet-B0, LeNet or the MLPs. When [`pool_spin`] says
/// so, the other threads spin for the step (see the module's documentation); the first call sets
/// the threads' scheduler slice (`crate::sched_slice`).
pub(crate) fn on_pool<R: Send>(cpu: bool, f: impl FnOnce() -> R + Send) -> R {
    if !cpu {
        return f();
    }
    crate::sched_slice::sched_slice_outcome();
    on_pool_spinning(step_spin(pool_spin()), f)
}

/// [`on_pool`] on the CPU with the other threads spinning for up to `spin` of no work.
fn on_pool_spinning<R: Send>(spin: Option<Duration>, f: impl FnOnce() -> R + Send) -> R {
    let Some(limit) = spin.filter(|_| rayon::current_num_threads() > 1) else {
        return rayon::scope(|_| f());
    };
    let done = AtomicBool::new(false);
    let done = &done;
    rayon::scope(|s| {
        let owner = rayon::current_thread_index();
        // One job per pool thread, run by that thread only; the step's own thread returns at
        // once (it must not spin under its own step).
        s.spawn_broadcast(move |_, ctx| {
            if Some(ctx.index()) != owner {
                spin_while_working(done, limit);
            }
        });
        let _end = SetOnDrop(done);
        f()
    })
}

/// Steals pending work until `done`, spinning in place while there is none, for at most
/// `limit` of no work in a row.
fn spin_while_working(done: &AtomicBool, limit: Duration) {
    let mut idle_since: Option<Instant> = None;
    while !done.load(Ordering::Acquire) {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => idle_since = None,
            Some(rayon::Yield::Idle) => {
                if idle_since.get_or_insert_with(Instant::now).elapsed() >= limit {
                    return;
                }
                std::hint::spin_loop();
            }
            None => return,
        }
    }
}

/// Sets its flag when dropped, so the spinning threads stop even if the step panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn the_spinners_steal_the_steps_work_and_stop_when_it_ends() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let ran = AtomicUsize::new(0);
        // Spinners that would spin for a minute: the step still ends as soon as its work is
        // done (they stop on its end, not on their limit), and the work runs exactly once.
        let t0 = Instant::now();
        let sum = pool.install(|| {
            on_pool_spinning(Some(Duration::from_secs(60)), || {
                let (a, b) = rayon::join(
                    || ran.fetch_add(1, Ordering::Relaxed),
                    || ran.fetch_add(1, Ordering::Relaxed),
                );
                a + b
            })
        });
        assert_eq!((sum, ran.load(Ordering::Relaxed)), (1, 2));
        assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    }

    #[test]
    fn the_spin_setting_reads_unset_and_auto_as_auto_zero_as_off_and_numbers_as_microseconds() {
        assert_eq!(parse_spin(None), PoolSpin::Auto);
        assert_eq!(parse_spin(Some(" auto ")), PoolSpin::Auto);
        assert_eq!(parse_spin(Some("0")), PoolSpin::Off);
        assert_eq!(parse_spin(Some("fast")), PoolSpin::Off);
        assert_eq!(
            parse_spin(Some("300")),
            PoolSpin::Fixed(Duration::from_micros(300))
        );
        assert_eq!(step_spin(PoolSpin::Off), None);
        assert_eq!(
            step_spin(PoolSpin::Fixed(Duration::from_micros(7))),
            Some(Duration::from_micros(7))
        );
    }

    #[test]
    fn the_pressure_total_is_the_some_lines() {
        let psi = "some avg10=30.61 avg60=7.56 avg300=2.27 total=1585492646\n\
                   full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        assert_eq!(pressure_total(psi), Some(1_585_492_646));
        assert_eq!(pressure_total("full avg10=0.00 total=5\n"), None);
        assert_eq!(pressure_total("some avg10=0.00\n"), None);
    }

    #[test]
    fn an_idle_spinner_gives_up_after_its_limit() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let done = AtomicBool::new(false);
        let t0 = Instant::now();
        pool.install(|| spin_while_working(&done, Duration::from_millis(20)));
        assert!(t0.elapsed() >= Duration::from_millis(20));
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
}
