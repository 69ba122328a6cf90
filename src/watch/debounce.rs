//! Coalesces a burst of file events into one batch.
//!
//! A batch is released once no event arrived for `quiet`, or once `max_wait`
//! passed since its first event (so a steady stream cannot hold changes back
//! forever). It is pure: the clock is passed in as `now`, so the policy is
//! tested without tokio or sleeps, and the watcher thread only sets a timer
//! while a batch is pending (`next_deadline`), which keeps idle cost at zero.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Quiet-window + max-wait batcher. Paths are deduplicated and come out sorted.
#[derive(Debug, Clone)]
pub struct Debouncer {
    quiet: Duration,
    max_wait: Duration,
    pending: BTreeSet<PathBuf>,
    /// (first push, last push) of the pending batch.
    window: Option<(Instant, Instant)>,
}

impl Debouncer {
    pub fn new(quiet: Duration, max_wait: Duration) -> Self {
        Self {
            quiet,
            max_wait,
            pending: BTreeSet::new(),
            window: None,
        }
    }

    /// Changes the timing for future deadlines (the pending batch is kept).
    pub fn set_timing(&mut self, quiet: Duration, max_wait: Duration) {
        self.quiet = quiet;
        self.max_wait = max_wait;
    }

    /// Adds paths to the pending batch. An empty push does not extend the window.
    pub fn push(&mut self, paths: impl IntoIterator<Item = PathBuf>, now: Instant) {
        let mut any = false;
        for path in paths {
            any = true;
            self.pending.insert(path);
        }
        if any {
            let first = self.window.map_or(now, |(first, _)| first);
            self.window = Some((first, now));
        }
    }

    /// When the pending batch becomes ready, if there is one.
    pub fn next_deadline(&self) -> Option<Instant> {
        let (first, last) = self.window?;
        Some((last + self.quiet).min(first + self.max_wait))
    }

    /// The batch, once its deadline has passed; `None` before that or when empty.
    pub fn take_ready(&mut self, now: Instant) -> Option<Vec<PathBuf>> {
        if now < self.next_deadline()? {
            return None;
        }
        self.window = None;
        Some(std::mem::take(&mut self.pending).into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Duration = Duration::from_millis(15);
    const MAX: Duration = Duration::from_millis(100);

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn empty_debouncer_has_no_deadline_and_nothing_ready() {
        let mut d = Debouncer::new(Q, MAX);
        let t0 = Instant::now();
        assert_eq!(d.next_deadline(), None);
        assert_eq!(d.take_ready(t0 + ms(1000)), None);
        d.push(Vec::new(), t0);
        assert_eq!(d.next_deadline(), None, "an empty push starts no timer");
    }

    #[test]
    fn nothing_is_ready_before_the_quiet_window() {
        let mut d = Debouncer::new(Q, MAX);
        let t0 = Instant::now();
        d.push([p("/a")], t0);
        assert_eq!(d.next_deadline(), Some(t0 + Q));
        assert_eq!(d.take_ready(t0 + ms(14)), None);
        assert_eq!(d.take_ready(t0 + Q), Some(vec![p("/a")]));
        assert_eq!(d.next_deadline(), None, "taking the batch clears the timer");
    }

    #[test]
    fn each_push_extends_the_quiet_window() {
        let mut d = Debouncer::new(Q, MAX);
        let t0 = Instant::now();
        d.push([p("/a")], t0);
        d.push([p("/b")], t0 + ms(10));
        assert_eq!(d.take_ready(t0 + ms(20)), None);
        assert_eq!(d.take_ready(t0 + ms(25)), Some(vec![p("/a"), p("/b")]));
    }

    #[test]
    fn max_wait_caps_a_continuous_stream() {
        let mut d = Debouncer::new(Q, MAX);
        let t0 = Instant::now();
        for i in 0..20 {
            d.push([p(&format!("/f{i}"))], t0 + ms(i * 10));
            if t0 + ms(i * 10) < t0 + MAX {
                assert_eq!(d.take_ready(t0 + ms(i * 10)), None);
            }
        }
        assert_eq!(d.next_deadline(), Some(t0 + MAX));
        let batch = d.take_ready(t0 + MAX).unwrap();
        assert_eq!(batch.len(), 20);
    }

    #[test]
    fn a_burst_of_a_thousand_paths_is_one_sorted_deduplicated_batch() {
        let mut d = Debouncer::new(Q, MAX);
        let t0 = Instant::now();
        for i in (0..1000u64).rev() {
            let t = t0 + Duration::from_micros(i);
            d.push([p(&format!("/src/{i:04}")), p("/src/same")], t);
        }
        let batch = d.take_ready(t0 + ms(50)).unwrap();
        assert_eq!(batch.len(), 1001);
        assert!(batch.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert_eq!(d.take_ready(t0 + ms(500)), None, "exactly one batch");
    }

    #[test]
    fn a_new_batch_starts_after_one_is_taken() {
        let mut d = Debouncer::new(Q, MAX);
        let t0 = Instant::now();
        d.push([p("/a")], t0);
        assert!(d.take_ready(t0 + Q).is_some());
        d.push([p("/a")], t0 + ms(200));
        assert_eq!(d.next_deadline(), Some(t0 + ms(200) + Q));
        assert_eq!(d.take_ready(t0 + ms(215)), Some(vec![p("/a")]));
    }
}
