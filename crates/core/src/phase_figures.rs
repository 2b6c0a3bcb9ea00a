//! The figures a phase's record derives from what was measured: the training duration from its
//! epochs, samples per second from a sample count and a duration, and the last epoch's loss and
//! accuracies. One place, so a model's run and an external command's write the same numbers.

use crate::energy::ComponentEnergy;
use crate::record::{EpochRecord, InferenceRecord, PartialEpoch, TrainRecord};

/// Samples per second of `samples` over `duration_s`: unknown (NaN, written as `null`), never 0,
/// without a count (an external command that reported none) or over no time.
fn per_second(samples: Option<u64>, duration_s: f64) -> f64 {
    match samples {
        Some(n) if duration_s > 0.0 => n as f64 / duration_s,
        _ => f64::NAN,
    }
}

impl TrainRecord {
    /// The training record of the finished `epochs` and the one that stopped part-way
    /// (`partial`): the duration is their wall time summed (the partial epoch included),
    /// samples per second `trained` (`None`: not reported) over it, the final loss, training and
    /// validation accuracy those of the last finished epoch (NaN, NaN and `None` when none
    /// finished: unknown, written as `null`, never 0), and `energy` the phase's raw energy. Net
    /// energy, power, utilisation and `validation_samples` are left for the caller to fill in.
    pub fn from_epochs(
        epochs: Vec<EpochRecord>,
        partial: Option<PartialEpoch>,
        trained: Option<u64>,
        energy: ComponentEnergy,
    ) -> TrainRecord {
        let partial_s = partial.as_ref().map_or(0.0, |p| p.duration_s);
        let duration: f64 = epochs.iter().map(|e| e.duration_s).sum::<f64>() + partial_s;
        let last = epochs.last();
        TrainRecord {
            duration_s: duration,
            samples_per_s: per_second(trained, duration),
            energy,
            final_loss: last.map_or(f64::NAN, |e| e.loss),
            train_acc: last.map_or(f64::NAN, |e| e.train_acc),
            val_acc: last.and_then(|e| e.val_acc),
            epochs,
            partial_epoch: partial,
            ..Default::default()
        }
    }
}

impl InferenceRecord {
    /// The inference record of `samples` (`None`: an external command that reported none, kept
    /// unknown, with no rate) evaluated in `duration_s` seconds with `energy` raw energy, their
    /// `accuracy` and, for a language model, `perplexity`; samples per second derived from them.
    /// Net energy and power are left for the caller to fill in.
    pub fn measured(
        samples: Option<u64>,
        duration_s: f64,
        energy: ComponentEnergy,
        accuracy: f64,
        perplexity: Option<f64>,
    ) -> InferenceRecord {
        InferenceRecord {
            samples,
            duration_s,
            samples_per_s: per_second(samples, duration_s),
            energy,
            accuracy,
            perplexity,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(n: usize, duration_s: f64, loss: f64, acc: f64, val: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch: n,
            duration_s,
            energy_j: None,
            net_energy_j: None,
            loss,
            train_acc: acc,
            val_acc: val,
        }
    }

    #[test]
    fn training_figures_come_from_the_epochs_and_the_partial_epoch() {
        let epochs = vec![
            epoch(1, 2.0, 0.9, 0.5, Some(0.4)),
            epoch(2, 3.0, 0.5, 0.7, Some(0.6)),
        ];
        let partial = PartialEpoch {
            epoch: 3,
            batches: 2,
            duration_s: 1.0,
            energy_j: None,
        };
        let t = TrainRecord::from_epochs(
            epochs.clone(),
            Some(partial.clone()),
            Some(1200),
            ComponentEnergy::default(),
        );
        assert_eq!(t.duration_s, 6.0);
        assert_eq!(t.samples_per_s, 200.0);
        assert_eq!(
            (t.final_loss, t.train_acc, t.val_acc),
            (0.5, 0.7, Some(0.6))
        );
        assert_eq!(t.epochs, epochs);
        assert_eq!(t.partial_epoch, Some(partial));
    }

    #[test]
    fn a_run_with_no_finished_epoch_has_no_final_loss_accuracy_or_rate() {
        let t = TrainRecord::from_epochs(Vec::new(), None, Some(0), ComponentEnergy::default());
        assert!(t.final_loss.is_nan() && t.train_acc.is_nan() && t.samples_per_s.is_nan());
        assert_eq!(t.duration_s, 0.0);
        assert_eq!(t.val_acc, None);
        // Written as null, not 0.
        let json = serde_json::to_value(&t).unwrap();
        for field in ["final_loss", "train_acc", "samples_per_s"] {
            assert!(json[field].is_null(), "{field}: {}", json[field]);
        }
    }

    #[test]
    fn a_rate_over_no_time_or_without_a_count_is_unknown() {
        assert!(per_second(Some(10), 0.0).is_nan());
        assert_eq!(per_second(Some(10), 2.0), 5.0);
        assert!(per_second(None, 2.0).is_nan());
    }

    #[test]
    fn inference_derives_its_rate_and_keeps_an_unreported_count_unknown() {
        let i =
            InferenceRecord::measured(Some(500), 2.5, ComponentEnergy::default(), 0.9, Some(3.0));
        assert_eq!(
            (i.samples, i.duration_s, i.samples_per_s),
            (Some(500), 2.5, 200.0)
        );
        assert_eq!((i.accuracy, i.perplexity), (0.9, Some(3.0)));
        let i = InferenceRecord::measured(None, 2.5, ComponentEnergy::default(), f64::NAN, None);
        assert_eq!(i.samples, None);
        assert!(i.samples_per_s.is_nan() && i.accuracy.is_nan());
        // Written as null, not 0.
        let json = serde_json::to_value(&i).unwrap();
        assert!(json["samples"].is_null(), "{}", json["samples"]);
    }
}
