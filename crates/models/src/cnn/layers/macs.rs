//! The thread-local MAC counter that convolutions and linear layers add to.

use std::cell::Cell;

use candle_core::Result;

thread_local! {
    static MACS: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Adds `n` MACs to the active counter (no-op when no count is running).
pub(super) fn add_macs(n: u64) {
    MACS.with(|m| {
        if let Some(v) = m.get() {
            m.set(Some(v + n));
        }
    });
}

/// Runs `f` with the MAC counter active and returns the MACs its convolutions and linear
/// layers performed (for the whole batch `f` uses).
pub fn count_macs<T>(f: impl FnOnce() -> Result<T>) -> Result<u64> {
    MACS.with(|m| m.set(Some(0)));
    let res = f();
    let n = MACS.with(|m| m.replace(None)).unwrap_or(0);
    res.map(|_| n)
}
