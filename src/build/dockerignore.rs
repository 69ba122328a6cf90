//! Docker's `.dockerignore` semantics, which are *not* gitignore's: every pattern is
//! anchored at the context root, uses Go `filepath.Match` syntax plus `**`, excludes a
//! path when it or any parent matches, and the last matching pattern wins, so a later
//! `!pattern` re-includes even a file inside an excluded directory.
//!
//! Mirrors moby's `patternmatcher` (`MatchesOrParentMatches`), including its cleaning
//! of patterns (`./a`, `/a` and `a//b` all mean `a`). Matching works on `/`-separated
//! paths relative to the context, so it is pure and needs no file-system access.

use std::path::{Component, Path};

use globset::{GlobBuilder, GlobMatcher};

use super::BuildError;

/// One cleaned pattern.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exception: bool,
    matcher: GlobMatcher,
}

/// An ordered list of dockerignore patterns.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    /// Parses `.dockerignore` text (comments, blank lines and `!` exceptions).
    pub fn parse(text: &str) -> Result<DockerIgnore, BuildError> {
        let mut out = DockerIgnore::default();
        out.extend(text.lines())?;
        Ok(out)
    }

    /// Appends patterns (one per item, `.dockerignore` line syntax); later ones win.
    pub fn extend<'a>(
        &mut self,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), BuildError> {
        for line in lines {
            if let Some(p) = parse_line(line)? {
                self.patterns.push(p);
            }
        }
        Ok(())
    }

    /// No patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether the context-relative path `rel` is excluded.
    pub fn excludes(&self, rel: &str) -> bool {
        let parents = parent_prefixes(rel);
        let mut excluded = false;
        for p in &self.patterns {
            let hit = p.matcher.is_match(rel) || parents.iter().any(|d| p.matcher.is_match(d));
            if hit {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether some `!` exception could re-include a path under the directory `rel`,
    /// so a walk must descend into it even though it is excluded. Conservative: an
    /// exception whose literal prefix is compatible with the directory counts.
    pub fn may_reinclude_under(&self, rel: &str) -> bool {
        let dir_slash = format!("{rel}/");
        self.patterns.iter().filter(|p| p.exception).any(|p| {
            let lit = literal_prefix(&p.text);
            lit.starts_with(&dir_slash) || dir_slash.starts_with(lit)
        })
    }
}

/// The part of a pattern before its first glob metacharacter.
fn literal_prefix(pattern: &str) -> &str {
    let end = pattern
        .find(['*', '?', '[', '\\', '{'])
        .unwrap_or(pattern.len());
    &pattern[..end]
}

/// `a/b/c` -> [`a`, `a/b`].
fn parent_prefixes(rel: &str) -> Vec<&str> {
    rel.match_indices('/').map(|(i, _)| &rel[..i]).collect()
}

fn parse_line(line: &str) -> Result<Option<Pattern>, BuildError> {
    if line.starts_with('#') {
        return Ok(None);
    }
    let mut text = line.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let exception = text.starts_with('!');
    if exception {
        text = text[1..].trim();
    }
    let text = clean(text);
    if text.is_empty() {
        return Ok(None);
    }
    let matcher = GlobBuilder::new(&text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|source| BuildError::BadPattern {
            pattern: line.to_owned(),
            source,
        })?
        .compile_matcher();
    Ok(Some(Pattern {
        text,
        exception,
        matcher,
    }))
}

/// Go's `filepath.Clean` plus moby's dropping of a leading `/`: `./a//b/../c/` -> `a/c`.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(pattern).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().unwrap_or_default()),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ig(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap()
    }

    #[test]
    fn docs_example_star_temp_matches_one_level_down_only() {
        let d = ig("# comment\n*/temp*\n");
        assert!(d.excludes("somedir/temporary.txt"));
        assert!(d.excludes("somedir/temp"));
        assert!(!d.excludes("temp.txt"));
        assert!(!d.excludes("a/b/temp.txt"));
    }

    #[test]
    fn docs_example_two_levels_down() {
        let d = ig("*/*/temp*");
        assert!(d.excludes("somedir/subdir/temporary.txt"));
        assert!(!d.excludes("somedir/temporary.txt"));
    }

    #[test]
    fn docs_example_question_mark_is_one_char_at_root() {
        let d = ig("temp?");
        assert!(d.excludes("tempa"));
        assert!(d.excludes("tempb"));
        assert!(!d.excludes("temp"));
        assert!(!d.excludes("tempab"));
        assert!(!d.excludes("dir/tempa"));
    }

    #[test]
    fn docs_example_double_star_matches_any_depth() {
        let d = ig("**/*.go");
        assert!(d.excludes("main.go"));
        assert!(d.excludes("a/b/c/x.go"));
        assert!(!d.excludes("a/b/c/x.rs"));
    }

    #[test]
    fn docs_example_exception_reincludes_readme() {
        let d = ig("*.md\n!README*.md\n");
        assert!(d.excludes("CHANGELOG.md"));
        assert!(!d.excludes("README.md"));
        assert!(!d.excludes("README-secret.md"));
    }

    #[test]
    fn docs_example_last_matching_pattern_wins() {
        let d = ig("*.md\n!README*.md\nREADME-secret.md\n");
        assert!(d.excludes("README-secret.md"));
        assert!(!d.excludes("README.md"));
        let d = ig("*.md\nREADME-secret.md\n!README*.md\n");
        assert!(!d.excludes("README-secret.md"));
    }

    #[test]
    fn excluded_directory_excludes_everything_below_it() {
        let d = ig("build");
        assert!(d.excludes("build"));
        assert!(d.excludes("build/out/app.bin"));
        assert!(!d.excludes("src/build"));
        assert!(!d.excludes("buildx"));
    }

    #[test]
    fn exception_reincludes_a_file_inside_an_excluded_dir() {
        let d = ig("vendor\n!vendor/keep.txt\n");
        assert!(d.excludes("vendor/other.txt"));
        assert!(!d.excludes("vendor/keep.txt"));
        assert!(d.may_reinclude_under("vendor"));
        assert!(!d.may_reinclude_under("other"));
    }

    #[test]
    fn patterns_are_cleaned_and_anchored_at_the_root() {
        let d = ig("/secret.txt\n./logs//\na/../b\n");
        assert!(d.excludes("secret.txt"));
        assert!(!d.excludes("sub/secret.txt"));
        assert!(d.excludes("logs/today.log"));
        assert!(d.excludes("b/x"));
    }

    #[test]
    fn star_does_not_cross_directories() {
        let d = ig("*.log");
        assert!(d.excludes("x.log"));
        assert!(!d.excludes("dir/x.log"));
    }

    #[test]
    fn wildcard_exception_may_reinclude_anywhere() {
        let d = ig("*\n!**/keep\n");
        assert!(d.may_reinclude_under("any/dir"));
        assert!(!d.excludes("any/dir/keep"));
        assert!(d.excludes("any/dir/drop"));
    }

    #[test]
    fn bad_pattern_is_a_typed_error() {
        let err = DockerIgnore::parse("[unclosed").unwrap_err();
        assert!(err.to_string().contains("[unclosed"), "{err}");
    }
}
