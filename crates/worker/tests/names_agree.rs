//! The names a config may give (core) are exactly the ones the models build (models): an
//! optimizer or schedule the config accepts must never fail inside a worker, and one the models
//! offer must be reachable from a config.

#[test]
fn config_and_models_accept_the_same_optimizers_and_schedules() {
    assert_eq!(
        greenbench_core::config::OPTIMIZERS,
        greenbench_models::optim::NAMES
    );
    assert_eq!(
        greenbench_core::config::SCHEDULES,
        greenbench_models::optim::schedule::NAMES
    );
}
