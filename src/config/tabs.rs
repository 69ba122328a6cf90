//! Tab indentation, which go.starlark.net (and so Tilt) accepts and starlark-rust
//! refuses ("tabs are not allowed").
//!
//! Before parsing, the leading tabs of each logical line are rewritten so starlark
//! sees the same block structure Go does: a tab advances to the next multiple of 8
//! columns, as in go.starlark.net's scanner. When one character per tab keeps every
//! comparison between indentations (a file indented only with tabs, the usual case),
//! each tab becomes one space: byte offsets, and so every error's line and column,
//! stay exactly those of the file. Otherwise (tabs and spaces mixed so that their
//! widths matter) tabs are expanded to their width: lines stay right, and columns
//! on those lines count each tab as its width.
//!
//! Only indentation is touched: tabs inside strings, brackets, comments and after
//! a line continuation are left alone.

use std::borrow::Cow;

use super::nesting::{skip_line, skip_string};

/// Go's tab stop for indentation.
const TAB: usize = 8;

/// The leading whitespace of one logical line: `start..end` bytes of the source.
#[derive(Debug)]
struct Indent {
    start: usize,
    end: usize,
    /// Go's width of the whitespace.
    width: usize,
    /// Whether code follows it (blank and comment-only lines open no block).
    code: bool,
}

/// `src` with tab indentation turned into spaces (see the module doc).
pub(crate) fn without_tab_indentation(src: &str) -> Cow<'_, str> {
    if !src.contains('\t') {
        return Cow::Borrowed(src);
    }
    let indents = indents(src);
    if !indents
        .iter()
        .any(|d| src.as_bytes()[d.start..d.end].contains(&b'\t'))
    {
        return Cow::Borrowed(src);
    }
    if one_per_char_keeps_order(&indents) {
        let mut bytes = src.as_bytes().to_vec();
        for d in &indents {
            for b in &mut bytes[d.start..d.end] {
                *b = b' ';
            }
        }
        // Only ASCII tabs were replaced by ASCII spaces.
        return Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| src.to_owned()));
    }
    let mut out = String::with_capacity(src.len() + 8 * indents.len());
    let mut at = 0;
    for d in &indents {
        out.push_str(&src[at..d.start]);
        out.extend(std::iter::repeat_n(' ', d.width));
        at = d.end;
    }
    out.push_str(&src[at..]);
    Cow::Owned(out)
}

/// Whether counting each whitespace character as one column orders the code lines'
/// indentations as Go's widths do.
fn one_per_char_keeps_order(indents: &[Indent]) -> bool {
    let mut pairs: Vec<(usize, usize)> = indents
        .iter()
        .filter(|d| d.code)
        .map(|d| (d.width, d.end - d.start))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1)
}

/// The leading whitespace of every logical line (not inside a string or bracket,
/// not after a `\` continuation).
fn indents(src: &str) -> Vec<Indent> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        if line_start && depth == 0 {
            line_start = false;
            let start = i;
            let mut width = 0;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                width = if bytes[i] == b'\t' {
                    width + TAB - width % TAB
                } else {
                    width + 1
                };
                i += 1;
            }
            let code = !matches!(bytes.get(i), None | Some(b'\n' | b'\r' | b'#'));
            out.push(Indent {
                start,
                end: i,
                width,
                code,
            });
            continue;
        }
        i = match bytes[i] {
            b'#' => skip_line(bytes, i),
            b'"' | b'\'' => skip_string(bytes, i),
            b'\\' => i + 2,
            b'(' | b'[' | b'{' => {
                depth += 1;
                i + 1
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i + 1
            }
            b'\n' => {
                line_start = true;
                i + 1
            }
            _ => i + 1,
        };
    }
    out
}

#[cfg(test)]
#[path = "tabs_tests.rs"]
mod tests;
