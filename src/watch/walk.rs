//! The directory walk that decides what gets an inotify watch.
//!
//! A hand walk (not `RecursiveMode::Recursive`) so ignored directories such as
//! `node_modules/` or `.git/` are never entered and never cost a watch. Each
//! directory's `.gitignore` is loaded before its children are judged, so nested
//! rules apply to their own subtree. Symlinked directories are not followed
//! (no loops, no watching outside the tree); unreadable directories are skipped.

use std::fs;
use std::path::{Path, PathBuf};

use super::IgnoreRules;

/// Directories under `root` (inclusive) that the rules keep. When `files` is
/// given, the kept non-directory entries are appended to it (used for a newly
/// created directory, whose files inotify could not report).
pub(crate) fn walk(
    rules: &mut IgnoreRules,
    root: &Path,
    mut files: Option<&mut Vec<PathBuf>>,
) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        rules.load_dir(&dir);
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            let is_dir = kind.is_dir();
            if rules.is_ignored_entry(&path, is_dir) {
                continue;
            }
            if is_dir {
                stack.push(path);
            } else if let Some(files) = files.as_deref_mut() {
                files.push(path);
            }
        }
        dirs.push(dir);
    }
    dirs
}
