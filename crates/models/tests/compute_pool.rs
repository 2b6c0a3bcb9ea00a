//! The calling thread as one of rayon's pool threads (a test binary of its own: the global pool
//! is process-wide, and it must not exist before the test asks to join it).

mod common;

use common::{image, random_batch, settings, Lcg};
use greenbench_models::{join_compute_pool, PoolMembership, Trainer};

/// The first call makes this thread thread 0 of the global pool and a second finds the pool
/// built; training steps run from this thread (each step's parallel work now starts here) give
/// the bits of the same steps handed to a separate pool of as many threads, and the evaluation
/// after them the same loss.
#[test]
fn the_calling_thread_joins_the_pool_and_trains_the_same() {
    assert_eq!(join_compute_pool(), PoolMembership::Joined);
    assert_eq!(rayon::current_thread_index(), Some(0));
    assert_eq!(join_compute_pool(), PoolMembership::PoolExisted);
    let input = image(3, 32, 32, 10);
    let (x, y) = random_batch(&input, 24, &mut Lcg(7));
    let s = settings("lenet", "sgd", 0.05);
    let run = || -> (Vec<u64>, u64) {
        let mut t = Trainer::new(&s, &input).unwrap();
        let losses = (0..3)
            .map(|_| t.train_step(&x, &y, 24).unwrap().loss.to_bits())
            .collect();
        (losses, t.evaluate(&x, &y, 24).unwrap().loss_sum.to_bits())
    };
    let here = run();
    let separate = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()
        .expect("a separate pool");
    let handed_off = separate.install(run);
    assert_eq!(here, handed_off);
}
