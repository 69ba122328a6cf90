//! stilt's integration tests, one binary. Each module covers one area.

/// Images built from busybox-static, docker helpers and cleanup for real-Docker tests.
mod docker_support;
/// Pod logs, port forwards and exec live update on the real test cluster.
mod k8s_stream;
/// A real image registry process (Debian's docker-registry) on 127.0.0.1.
mod registry_support;
/// Resource and project builders shared by the areas.
mod support;

/// `stilt ci`/`up`/`down` end to end: the real binary, real processes, real files.
mod cli;
/// The compose-web example end to end against the real Docker Engine.
mod cli_compose;
/// The helm-web example end to end (`helm()`) and the render cache from outside.
mod cli_helm;
/// One stilt per project (the instance lock) and no process left after a SIGKILLed stilt.
mod cli_instance;
/// The k8s-web example end to end against the real test cluster.
mod cli_k8s;
/// k8s_custom_deploy and k8s_kind end to end against the real test cluster.
mod cli_k8s_custom;
/// Tiltfile loads that hang: ci's timeout, up's signals and reloads, the stuck-line
/// report, and no `local()` command left behind.
mod cli_load;
/// `docker_build_with_restart` (built-in ext://restart_process) on Compose and Kubernetes.
mod cli_restart_process;
/// Output capture, a running `stilt up`, HTTP and polling for binary tests.
mod cli_support;
/// Tiltfiles that once aborted or misled the real binary: deep nesting, runaway
/// recursion, unclosed brackets, bad names, no resources.
mod cli_tiltfile;
/// Client verbs end to end against a real `stilt up`; two projects side by side; ci reports.
mod cli_web;
/// Live update or full rebuild for compose resources, decided purely with a reason.
mod compose_plan;
/// Tiltfile evaluation results and error messages, compared with golden files.
mod config_golden;
/// Small Tiltfiles pinning Tilt's evaluation rules, checked through `alpha tiltfile-result`.
mod conformance;
/// Scheduling, CI verdict and reducer decisions over hand-built states.
mod decisions;
/// Image builds on the real Engine: contexts, ignores, content tags, custom_build.
mod docker_build;
/// The compose deploy target (compose CLI, Engine status/events/logs) on real Docker.
mod docker_compose;
/// Live update against the real Engine: copies without `tar`, deletes, runs, restart.
mod docker_liveupdate;
/// The engine loop over compose resources with faked Docker-side systems.
mod engine_compose;
/// The engine loop driven with the fake spawner and fake watcher.
mod engine_fake;
/// A second deploy target (the fake one) driven through the engine without engine changes.
mod engine_target;
/// default_registry: pushes into a real registry, and `ci` on the test cluster
/// running the pushed image.
mod k8s_registry;
/// The Kubernetes deploy target on the real test cluster (STILT_TEST_KUBECONFIG).
mod k8s_target;
/// Live-update decisions (fall back, sync mapping, triggers) and `apply` over the fake.
mod liveupdate_plan;
/// The helper's `supervise` mode (restart_process) run on the host.
mod supervise;
/// The sync helper on the real Engine: scratch images, restarts, fallbacks, cleanup.
mod sync_helper;
/// `stilt up`'s terminal UI driven in tmux: start, trigger, quit, nothing left behind.
mod tui_e2e;
/// Keys and mouse events to intents, and what intents do to the UI and the engine.
mod tui_input;
/// Literal screens of the terminal UI (TestBackend).
mod tui_screens;
/// The HTTP API's handlers: JSON shapes (golden), Host/token checks, size caps, intents.
mod web_api;
/// The dashboard in headless Chromium: against canned JSON and against a real `stilt up`.
mod web_dashboard;
