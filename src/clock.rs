//! Reading the wall clock, for the few places that must speak in Unix time (the
//! Docker Engine's `since=` filters). Everything that decides on time gets it
//! injected instead (see `watch::debounce`), so tests never depend on this.

/// Seconds since the Unix epoch now; `None` if the clock reads before it.
pub fn unix_now() -> Option<i64> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.ok().and_then(|d| i64::try_from(d.as_secs()).ok())
}

/// The engine's "now" for the times it records (`at` fields, run durations, ci
/// deadlines): tokio's clock, as a std `Instant`. Engine tests run on tokio's paused
/// clock, which this follows, so a timeout of minutes passes in no real time.
pub fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
