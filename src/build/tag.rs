//! Content-hash tags: `stilt-<16 hex>` from blake3 over everything that changes the
//! image (input files with their paths and modes, symlink targets, the Dockerfile
//! text, build args, target, ...; never `live_update`), so an unchanged image keeps
//! its tag and a restarted stilt can reuse it.
//!
//! File digests are cached process-wide, keyed by path and checked against (size,
//! mtime, ctime, inode): a no-op rebuild only stats files, it never reads them.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use super::BuildError;
use super::inputs::{Entry, Inputs};
use crate::model::{CustomBuild, DockerBuild, Dockerfile, ImageBuild, ImageSpec, ProcessRestart};

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
    dev: u64,
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
            inode: m.ino(),
            dev: m.dev(),
        }
    }
}

type DigestCache = Mutex<HashMap<PathBuf, (Stamp, [u8; 32])>>;

fn cache() -> &'static DigestCache {
    static CACHE: OnceLock<DigestCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The content-hash tag of `spec` (`stilt-0123456789abcdef`). Blocking: call it
/// on a blocking thread for big contexts.
pub fn content_tag(spec: &ImageSpec) -> Result<String, BuildError> {
    let inputs = Inputs::for_image(spec)?;
    let mut h = blake3::Hasher::new();
    field(&mut h, "image_ref", &spec.image_ref);
    match &spec.build {
        ImageBuild::Docker(b) => hash_docker(&mut h, b)?,
        ImageBuild::Custom(c) => hash_custom(&mut h, c),
    }
    if let Some(r) = &spec.live_update.restart_process {
        // The wrapped image differs from the plain one (entrypoint, supervisor).
        hash_restart(&mut h, r);
    }
    for e in inputs.entries()? {
        hash_entry(&mut h, &e)?;
    }
    let hex = h.finalize().to_hex();
    Ok(format!("stilt-{}", &hex[..16]))
}

/// `<image_ref>:<tag>`, where a custom_build's fixed `tag=` wins over `content_tag`.
pub fn tagged_ref(spec: &ImageSpec, content_tag: &str) -> String {
    let tag = match &spec.build {
        ImageBuild::Custom(CustomBuild { tag: Some(t), .. }) if !t.is_empty() => t.as_str(),
        _ => content_tag,
    };
    format!("{}:{tag}", spec.image_ref)
}

fn hash_restart(h: &mut blake3::Hasher, r: &ProcessRestart) {
    field(h, "restart_process", super::restart::SUPERVISOR_ID);
    for a in &r.entrypoint {
        field(h, "restart_entrypoint", a);
    }
    field(h, "restart_file", &r.restart_file);
    field(h, "restart_exit_policy", r.exit_policy.as_str());
}

/// Length-prefixed so that adjacent fields can never run into each other.
fn field(h: &mut blake3::Hasher, name: &str, value: &str) {
    for part in [name, value] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
}

fn fields<'a>(h: &mut blake3::Hasher, name: &str, values: impl IntoIterator<Item = &'a str>) {
    for v in values {
        field(h, name, v);
    }
}

fn hash_docker(h: &mut blake3::Hasher, b: &DockerBuild) -> Result<(), BuildError> {
    let text = match &b.dockerfile {
        Dockerfile::Contents(c) => c.clone(),
        Dockerfile::Path(p) => {
            std::fs::read_to_string(p).map_err(|source| BuildError::ReadDockerfile {
                path: p.clone(),
                source,
            })?
        }
    };
    field(h, "kind", "docker_build");
    field(h, "dockerfile", &text);
    for (k, v) in &b.build_args {
        field(h, "arg", k);
        field(h, "=", v);
    }
    fields(h, "target", b.target.as_deref());
    fields(h, "network", b.network.as_deref());
    fields(h, "platform", b.platform.as_deref());
    field(h, "pull", if b.pull { "1" } else { "0" });
    fields(h, "extra_host", b.extra_hosts.iter().map(String::as_str));
    fields(h, "extra_tag", b.extra_tags.iter().map(String::as_str));
    Ok(())
}

fn hash_custom(h: &mut blake3::Hasher, c: &CustomBuild) {
    field(h, "kind", "custom_build");
    field(h, "command", &format!("{:?}", c.command.argv()));
    field(h, "dir", &c.dir.to_string_lossy());
    for (k, v) in &c.env {
        field(h, "env", k);
        field(h, "=", v);
    }
    fields(h, "tag", c.tag.as_deref());
    field(
        h,
        "skips_local_docker",
        if c.skips_local_docker { "1" } else { "0" },
    );
}

fn hash_entry(h: &mut blake3::Hasher, e: &Entry) -> Result<(), BuildError> {
    let ft = e.meta.file_type();
    field(h, "path", &e.rel);
    field(h, "mode", &format!("{:o}", e.meta.mode()));
    if ft.is_symlink() {
        let target = std::fs::read_link(&e.path).map_err(|source| BuildError::Read {
            path: e.path.clone(),
            source,
        })?;
        field(h, "link", &target.to_string_lossy());
    } else if ft.is_file() {
        h.update(&file_digest(&e.path, &e.meta)?);
    }
    Ok(())
}

/// The blake3 digest of one file's content, from the cache when its stamp is unchanged.
fn file_digest(path: &Path, meta: &std::fs::Metadata) -> Result<[u8; 32], BuildError> {
    let stamp = Stamp::of(meta);
    if let Ok(c) = cache().lock()
        && let Some((s, d)) = c.get(path)
        && *s == stamp
    {
        return Ok(*d);
    }
    let digest = hash_file(path).map_err(|source| BuildError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !is_racy(meta)
        && let Ok(mut c) = cache().lock()
    {
        c.insert(path.to_path_buf(), (stamp, digest));
    }
    Ok(digest)
}

/// A file modified within the last second may be modified again without its mtime
/// moving (kernel timestamps are only as fine as the clock tick), so its digest is
/// not trusted for later runs: git's "racy clean" rule.
fn is_racy(meta: &std::fs::Metadata) -> bool {
    let recent = |t: std::io::Result<std::time::SystemTime>| {
        t.ok()
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age < RACY_WINDOW)
    };
    recent(meta.modified()) || {
        let ctime = std::time::UNIX_EPOCH
            + std::time::Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec().max(0) as u32);
        recent(Ok(ctime))
    }
}

const RACY_WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

fn hash_file(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut f = std::fs::File::open(path)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(*h.finalize().as_bytes());
        }
        h.update(&buf[..n]);
    }
}
