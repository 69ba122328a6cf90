//! Image-build speed on a 10,000-file context (run: `cargo bench --bench build`).
//!
//! Prints: cold and warm (no-op rebuild: recompute the tag and compare) `content_tag`
//! times, and the context tar streamed to a sink next to GNU `tar -cf - dir | wc -c`
//! as the disk-speed reference. Figures and method are in docs/performance.md.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use stilt::build::context::BuildContext;
use stilt::build::{Inputs, content_tag};
use stilt::model::{ImageBuild, ImageSpec};

const DIRS: usize = 100;
const FILES_PER_DIR: usize = 100;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = populate(dir.path());
    println!(
        "context: {} files in {DIRS} dirs, {:.1} MB",
        DIRS * FILES_PER_DIR,
        mb(bytes)
    );
    // Digests of files younger than 1 s are not cached (racy-clean rule): let them age.
    std::thread::sleep(Duration::from_millis(1200));
    let spec = spec(dir.path());

    let (cold, tag) = time(|| content_tag(&spec).expect("content_tag"));
    println!("content_tag cold (reads every file): {}", ms(cold));
    let warm: Vec<Duration> = (0..10)
        .map(|_| {
            let (t, again) = time(|| content_tag(&spec).expect("content_tag"));
            assert_eq!(again, tag);
            t
        })
        .collect();
    println!(
        "content_tag warm (no-op rebuild), 10 runs: min {} median {}",
        ms(*warm.iter().min().expect("runs")),
        ms(median(warm))
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ((streamed, entries), t) = {
        let start = Instant::now();
        let r = rt.block_on(stream_context(&spec));
        (r, start.elapsed())
    };
    println!(
        "context tar streamed to a sink: {entries} entries, {:.1} MB in {} = {:.0} MB/s",
        mb(streamed),
        ms(t),
        mb(streamed) / t.as_secs_f64()
    );
    let (t, tar_bytes) = time(|| gnu_tar(dir.path()));
    println!(
        "GNU tar -cf - dir | wc -c: {:.1} MB in {} = {:.0} MB/s",
        mb(tar_bytes),
        ms(t),
        mb(tar_bytes) / t.as_secs_f64()
    );
}

/// 100 dirs x 100 files of 1-8 KiB (varied, like source trees).
fn populate(root: &Path) -> u64 {
    std::fs::write(root.join("Dockerfile"), "FROM scratch\nCOPY . /\n").expect("Dockerfile");
    let mut total = 0u64;
    for d in 0..DIRS {
        let sub = root.join(format!("pkg{d:03}"));
        std::fs::create_dir(&sub).expect("mkdir");
        for f in 0..FILES_PER_DIR {
            let len = 1024 * (1 + (d * 7 + f * 13) % 8);
            let body: Vec<u8> = (0..len).map(|i| (i * 31 + d + f) as u8).collect();
            std::fs::write(sub.join(format!("f{f:03}.src")), &body).expect("write");
            total += len as u64;
        }
    }
    total
}

fn spec(context: &Path) -> ImageSpec {
    ImageSpec::docker("bench", context)
}

/// Walk + tar + channel, exactly as a build uploads it, into a byte counter.
async fn stream_context(spec: &ImageSpec) -> (u64, usize) {
    let ImageBuild::Docker(b) = &spec.build else {
        unreachable!()
    };
    let inputs = Inputs::for_image(spec).expect("inputs");
    let owned = b.clone();
    let ctx = tokio::task::spawn_blocking(move || BuildContext::prepare(&owned, &inputs))
        .await
        .expect("join")
        .expect("prepare");
    let entries = ctx.len();
    let mut stream = ctx.into_stream().body;
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        n += chunk.expect("chunk").len() as u64;
    }
    (n, entries)
}

fn gnu_tar(dir: &Path) -> u64 {
    let out = Command::new("sh")
        .arg("-c")
        .arg("tar -cf - . | wc -c")
        .current_dir(dir)
        .output()
        .expect("tar");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("wc -c output")
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let r = f();
    (start.elapsed(), r)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_000_000.0
}
