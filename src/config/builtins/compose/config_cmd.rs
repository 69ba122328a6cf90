//! Running `<compose> config` at load time to get the normalized model.
//!
//! The compose tool itself resolves the files (merging, `${VAR}` interpolation,
//! `extends`, relative paths), so stilt never re-implements compose's rules. Inline
//! YAML blobs are written to temp files that are removed as soon as `config` has
//! run: the printed model is self-contained, and deploys feed it on stdin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::bail;

use crate::deploy::compose::tool::ComposeTool;

/// One `config` invocation.
pub struct ConfigCmd<'a> {
    pub project_name: &'a str,
    pub project_dir: &'a Path,
    pub env_file: Option<&'a Path>,
    pub profiles: &'a [String],
    /// Compose files and inline YAML, in the order given.
    pub sources: &'a [Source],
    /// The Tiltfile's `os.putenv` / `os.unsetenv` (compose interpolates the environment).
    pub env_overrides: &'a BTreeMap<String, Option<String>>,
}

/// One entry of `docker_compose(configPaths)`.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Inline(String),
}

/// Inline YAML written out for one `config` run; removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn write(text: &str) -> anyhow::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("stilt-compose-{}-{n}.yml", std::process::id()));
        std::fs::write(&path, text).map_err(|e| {
            anyhow::anyhow!(
                "docker_compose(): cannot write inline YAML to {}: {e}",
                path.display()
            )
        })?;
        Ok(Self(path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Best effort: a leftover temp file is harmless.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Models printed by `config` in this process, by the hash of everything they were
/// made from: a reload of an unchanged project does not run the tool again (compose
/// v1 takes about half a second per run).
static MODELS: Mutex<BTreeMap<[u8; 32], serde_json::Value>> = Mutex::new(BTreeMap::new());
/// How many times this process ran `config` (a reload that hits the cache does not).
static RUNS: AtomicU64 = AtomicU64::new(0);

/// How many times this process has run the compose tool's `config`.
pub fn config_runs() -> u64 {
    RUNS.load(Ordering::Relaxed)
}

impl ConfigCmd<'_> {
    /// The model as JSON: from the cache when nothing it depends on changed, else
    /// from running `config`.
    pub fn run(&self) -> anyhow::Result<serde_json::Value> {
        self.cached_or(Self::run_tool)
    }

    fn cached_or(
        &self,
        run: impl FnOnce(&Self) -> anyhow::Result<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let key = self.cache_key();
        let cached = MODELS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(model) = cached {
            return Ok(model);
        }
        let model = run(self)?;
        MODELS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, model.clone());
        Ok(model)
    }

    /// Everything the model depends on: the arguments, the content of every compose
    /// and env file, the environment compose interpolates, and the size and time of
    /// the YAML and env files beside the project (what `extends:` and `.env` read).
    fn cache_key(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        let mut field = |name: &str, value: &[u8]| {
            h.update(&(name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update(&(value.len() as u64).to_le_bytes());
            h.update(value);
        };
        field("project", self.project_name.as_bytes());
        field("dir", self.project_dir.as_os_str().as_encoded_bytes());
        for p in self.profiles {
            field("profile", p.as_bytes());
        }
        if let Some(f) = self.env_file {
            field("env_file", f.as_os_str().as_encoded_bytes());
            field("env_file_content", &std::fs::read(f).unwrap_or_default());
        }
        for s in self.sources {
            match s {
                Source::File(p) => {
                    field("file", p.as_os_str().as_encoded_bytes());
                    field("content", &std::fs::read(p).unwrap_or_default());
                }
                Source::Inline(text) => field("inline", text.as_bytes()),
            }
        }
        let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os().collect();
        env.sort();
        for (k, v) in env {
            field("env", k.as_encoded_bytes());
            field("value", v.as_encoded_bytes());
        }
        for (k, v) in self.env_overrides {
            field("override", format!("{k}={v:?}").as_bytes());
        }
        let mut beside: Vec<(PathBuf, u64, std::time::SystemTime)> =
            std::fs::read_dir(self.project_dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().to_lowercase();
                    name.ends_with(".yml") || name.ends_with(".yaml") || name.contains(".env")
                })
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    Some((e.path(), m.len(), m.modified().ok()?))
                })
                .collect();
        beside.sort();
        for (p, len, modified) in beside {
            field(
                "beside",
                format!("{} {len} {modified:?}", p.display()).as_bytes(),
            );
        }
        *h.finalize().as_bytes()
    }

    /// Runs `config` and returns the model as JSON.
    fn run_tool(&self) -> anyhow::Result<serde_json::Value> {
        let tool = ComposeTool::detect().map_err(|e| anyhow::anyhow!("docker_compose(): {e}"))?;
        RUNS.fetch_add(1, Ordering::Relaxed);
        let mut temps: Vec<TempFile> = Vec::new();
        let mut command = tool.command();
        command
            .arg("-p")
            .arg(self.project_name)
            .arg("--project-directory")
            .arg(self.project_dir);
        if let Some(f) = self.env_file {
            command.arg("--env-file").arg(f);
        }
        for p in self.profiles {
            command.arg("--profile").arg(p);
        }
        for s in self.sources {
            let path = match s {
                Source::File(p) => p.clone(),
                Source::Inline(text) => {
                    temps.push(TempFile::write(text)?);
                    temps[temps.len() - 1].0.clone()
                }
            };
            command.arg("-f").arg(path);
        }
        command.arg("config");
        if tool.json_config {
            command.args(["--format", "json"]);
        }
        let out = self.output(command, &tool.argv.join(" "))?;
        drop(temps);
        parse(&out, tool.json_config)
    }

    fn output(&self, mut command: Command, tool: &str) -> anyhow::Result<String> {
        for (k, v) in self.env_overrides {
            match v {
                Some(v) => command.env(k, v),
                None => command.env_remove(k),
            };
        }
        command
            .current_dir(self.project_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = command
            .output()
            .map_err(|e| anyhow::anyhow!("docker_compose(): cannot run `{tool} config`: {e}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            bail!(
                "docker_compose(): `{tool} config` failed ({}) for project {:?}:\n{}",
                out.status,
                self.project_name,
                stderr.trim_end()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// v2 prints JSON; v1 prints YAML, read into the same JSON values.
fn parse(text: &str, json: bool) -> anyhow::Result<serde_json::Value> {
    let parsed = if json {
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
    } else {
        serde_saphyr::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| anyhow::anyhow!("docker_compose(): cannot read the compose model: {e}"))
}

/// The project name compose picks by default: the directory's name, lowercased,
/// keeping `[a-z0-9_-]`.
pub fn default_project_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    #[test]
    fn an_unchanged_project_reuses_its_model_and_any_change_runs_config_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("compose.yml");
        std::fs::write(&file, "services: {web: {image: a}}\n").unwrap();
        let sources = [Source::File(file.clone())];
        let overrides = BTreeMap::new();
        let cmd = ConfigCmd {
            project_name: "cache-test",
            project_dir: dir.path(),
            env_file: None,
            profiles: &[],
            sources: &sources,
            env_overrides: &overrides,
        };
        let runs = Cell::new(0);
        let fake = |_: &ConfigCmd| {
            runs.set(runs.get() + 1);
            Ok(serde_json::json!({ "run": runs.get() }))
        };
        let first = cmd.cached_or(fake).unwrap();
        assert_eq!(cmd.cached_or(fake).unwrap(), first);
        assert_eq!(runs.get(), 1, "an unchanged project does not run config");
        std::fs::write(&file, "services: {web: {image: b}}\n").unwrap();
        cmd.cached_or(fake).unwrap();
        assert_eq!(runs.get(), 2, "a changed compose file does");
        std::fs::write(dir.path().join("base.yml"), "services: {}\n").unwrap();
        cmd.cached_or(fake).unwrap();
        assert_eq!(runs.get(), 3, "a new YAML file beside it (extends:) does");
    }

    use super::*;

    #[test]
    fn inline_yaml_temp_file_is_removed_when_dropped() {
        let t = TempFile::write("services: {}\n").unwrap();
        let path = t.0.clone();
        assert!(path.is_file());
        drop(t);
        assert!(!path.exists());
    }

    #[test]
    fn default_project_name_is_the_dir_name_lowercased_and_filtered() {
        assert_eq!(
            default_project_name(Path::new("/src/My App.v2_x-y")),
            "myappv2_x-y"
        );
    }

    #[test]
    fn v1_yaml_and_v2_json_models_read_alike() {
        let yaml = parse(
            "services:\n  web:\n    ports:\n    - published: 80\n",
            false,
        )
        .unwrap();
        let json = parse(r#"{"services":{"web":{"ports":[{"published":80}]}}}"#, true).unwrap();
        assert_eq!(yaml, json);
    }
}
