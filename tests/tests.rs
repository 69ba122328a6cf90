//! stilt's integration tests, one binary. Each module covers one area.

/// Images built from busybox-static, docker helpers and cleanup for real-Docker tests.
mod docker_support;
/// Resource and project builders shared by the areas.
mod support;

/// `stilt ci`/`up`/`down` end to end: the real binary, real processes, real files.
mod cli;
/// Tiltfile evaluation results and error messages, compared with golden files.
mod config_golden;
/// Scheduling, CI verdict and reducer decisions over hand-built states.
mod decisions;
/// Image builds on the real Engine: contexts, ignores, content tags, custom_build.
mod docker_build;
/// The engine loop driven with the fake spawner and fake watcher.
mod engine_fake;
