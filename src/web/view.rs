//! A view that publishes snapshots for the API beside the view the terminal shows
//! (the line printer of `up --stream`, the CI reporter): the engine takes one view,
//! so this one calls both, and the inner view's exit code decides.

use std::time::Instant;

use crate::engine::View;
use crate::engine::schedule::Decision;
use crate::store::EngineState;
use crate::views::publish::Publisher;

pub struct WithPublisher<'a> {
    pub inner: &'a mut dyn View,
    pub publisher: Publisher,
}

impl View for WithPublisher<'_> {
    fn update(&mut self, state: &EngineState, decision: &Decision, now: Instant) -> Option<i32> {
        self.publisher.update(state, decision, now);
        self.inner.update(state, decision, now)
    }

    fn next_wakeup(&self) -> Option<Instant> {
        self.inner.next_wakeup()
    }

    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        self.publisher.finish(state, decision);
        self.inner.finish(state, decision);
    }
}
