use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fake::FakeRunner;
use super::*;

struct Fixture {
    tmp: tempfile::TempDir,
    runner: Arc<FakeRunner>,
}

impl Fixture {
    fn new(runner: FakeRunner) -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("charts")).expect("mkdir");
        Fixture {
            tmp,
            runner: Arc::new(runner),
        }
    }

    /// A renderer as one load gets it.
    fn renderer(&self) -> Renderer {
        Renderer::new(self.runner.clone(), Some(self.tmp.path().join("cache")))
    }

    /// A chart dir `name` with one file holding `content`.
    fn chart(&self, name: &str, content: &str) -> RenderSpec {
        let dir = self.tmp.path().join("charts").join(name);
        std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
        std::fs::write(dir.join("templates/a.yaml"), content).expect("write");
        RenderSpec {
            program: "/bin/helm-fake".into(),
            args: vec![name.into(), "template".into()],
            dir: self.tmp.path().into(),
            env: vec![],
            inputs: vec![dir],
        }
    }

    /// One load: prefetch, render every spec, finish. Returns the outputs.
    fn load(&self, specs: &[RenderSpec]) -> Vec<String> {
        let r = self.renderer();
        r.prefetch();
        let out = specs.iter().map(|s| r.render(s).expect("render")).collect();
        r.finish();
        out
    }
}

#[test]
fn unchanged_inputs_run_nothing_on_the_next_load() {
    let f = Fixture::new(FakeRunner::default());
    let specs = [f.chart("a", "1"), f.chart("b", "1")];
    let first = f.load(&specs);
    assert_eq!(f.runner.runs(), 2);
    let second = f.load(&specs);
    assert_eq!(
        f.runner.runs(),
        2,
        "a reload with the same inputs ran a render"
    );
    assert_eq!(first, second);
}

#[test]
fn a_changed_input_file_reruns_only_that_render() {
    let f = Fixture::new(FakeRunner::default());
    let specs = [f.chart("a", "1"), f.chart("b", "1")];
    f.load(&specs);
    let specs = [f.chart("a", "2"), f.chart("b", "1")];
    f.load(&specs);
    assert_eq!(f.runner.runs(), 3);
    let log = f.runner.log.lock().expect("log").clone();
    assert_eq!(log.last().map(|a| a[0].as_str()), Some("a"));
}

#[test]
fn changed_arguments_or_environment_rerun() {
    let f = Fixture::new(FakeRunner::default());
    let a = f.chart("a", "1");
    f.load(std::slice::from_ref(&a));
    let mut b = a.clone();
    b.args.push("--set=x=1".into());
    f.load(std::slice::from_ref(&b));
    let mut c = a.clone();
    c.env.push(("HELM_X".into(), "1".into()));
    f.load(std::slice::from_ref(&c));
    assert_eq!(f.runner.runs(), 3);
}

#[test]
fn a_new_file_in_an_input_directory_changes_the_key() {
    let f = Fixture::new(FakeRunner::default());
    let a = f.chart("a", "1");
    let before = key(&a).expect("key");
    std::fs::write(a.inputs[0].join("templates/b.yaml"), "x").expect("write");
    assert_ne!(before, key(&a).expect("key"));
}

#[test]
fn prefetch_runs_the_recorded_changed_renders_at_once() {
    let f = Fixture::new(FakeRunner {
        delay: Duration::from_millis(300),
        ..Default::default()
    });
    let names = ["a", "b", "c", "d"];
    let specs: Vec<_> = names.iter().map(|n| f.chart(n, "1")).collect();
    f.load(&specs);
    assert_eq!(
        f.runner
            .max_running
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let specs: Vec<_> = names.iter().map(|n| f.chart(n, "2")).collect();
    let r = f.renderer();
    assert_eq!(r.prefetch(), 4);
    let started = Instant::now();
    for s in &specs {
        assert_eq!(
            r.render(s).expect("render"),
            format!("rendered {} template\n", s.args[0])
        );
    }
    // Serially that would be 4 x 300 ms.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(f.runner.runs(), 8, "a prefetched render ran again");
    assert_eq!(
        f.runner
            .max_running
            .load(std::sync::atomic::Ordering::SeqCst),
        4
    );
}

#[test]
fn prefetch_skips_what_is_cached() {
    let f = Fixture::new(FakeRunner::default());
    let specs = [f.chart("a", "1"), f.chart("b", "1")];
    f.load(&specs);
    assert_eq!(f.renderer().prefetch(), 0);
}

#[test]
fn a_failure_is_not_cached() {
    let f = Fixture::new(FakeRunner {
        fail_on: Some("bad".into()),
        ..Default::default()
    });
    let bad = f.chart("bad", "1");
    let r = f.renderer();
    let err = r.render(&bad).expect_err("fails");
    assert!(err.to_string().contains("fake failure"), "{err}");
    r.finish();
    let r = f.renderer();
    r.prefetch();
    assert!(r.render(&bad).is_err());
    // Once by the prefetch (recorded, not cached), whose result the render used.
    assert_eq!(f.runner.runs(), 2);
}

#[test]
fn outputs_no_render_used_are_dropped() {
    let f = Fixture::new(FakeRunner::default());
    f.load(&[f.chart("a", "1"), f.chart("b", "1")]);
    f.load(&[f.chart("a", "1")]);
    let outs = std::fs::read_dir(f.tmp.path().join("cache"))
        .expect("cache dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".out"))
        .count();
    assert_eq!(outs, 1);
}

#[test]
fn without_a_cache_every_render_runs() {
    let f = Fixture::new(FakeRunner::default());
    let a = f.chart("a", "1");
    let r = Renderer::new(f.runner.clone(), None);
    r.render(&a).expect("render");
    r.render(&a).expect("render");
    assert_eq!(f.runner.runs(), 2);
}

#[test]
fn a_load_without_renders_leaves_no_cache_dir() {
    let f = Fixture::new(FakeRunner::default());
    f.load(&[f.chart("a", "1")]);
    assert!(f.tmp.path().join("cache").exists());
    f.load(&[]);
    assert!(!f.tmp.path().join("cache").exists());
}
