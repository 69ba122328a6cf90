//! A scan of a Tiltfile's brackets and operators before starlark parses it.
//!
//! starlark-rust parses, compiles, evaluates and drops expressions recursively, so a
//! deeply nested one (`[[[[...`, `1+1+1+...`, a long run of `(`) overflows the native
//! stack and aborts the whole process: no error, no cleanup, and under `up` saving
//! such a file would kill stilt. Evaluation runs on a thread with a large stack
//! (see `load.rs`), and this scan bounds what reaches it: an expression deeper than
//! [`MAX_DEPTH`] is refused at the exact token that crosses the limit.
//!
//! Depth is measured on tokens, not on a tree: each open bracket is one level, and so
//! is each operator character or operator keyword seen since the last `,` in the same
//! bracket (or since the start of the statement). A chain `a + b + c` nests in the
//! tree like `((a + b) + c)`, so counting its operators counts its depth; siblings
//! separated by commas do not nest, so a comma resets the count. The count errs on the
//! high side (`==` counts twice), which at this limit no real Tiltfile notices.
//!
//! The same scan knows where each bracket was opened, which starlark's parser does
//! not say when a file ends inside one: [`unclosed`] names that place.

/// How deep an expression may nest. Python refuses 200 nested brackets; real
/// Tiltfiles stay far below 50. The load thread's stack is sized so this depth, in
/// any shape, fits with a wide margin even in a debug build.
pub(crate) const MAX_DEPTH: usize = 500;

/// What the scan found wrong, at a byte offset of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// Refuses an expression nested deeper than [`MAX_DEPTH`].
pub(crate) fn check_depth(src: &str) -> Result<(), Problem> {
    let mut scan = Scan::default();
    scan.run(src)?;
    Ok(())
}

/// The innermost bracket still open at the end of the file, if any.
pub(crate) fn unclosed(src: &str) -> Option<Problem> {
    let mut scan = Scan::default();
    // A too-deep file has no useful answer here; its depth error wins anyway.
    scan.run(src).ok()?;
    let &(open, offset) = scan.levels.last()?.open.as_ref()?;
    Some(Problem {
        offset,
        len: 1,
        message: format!("'{open}' is never closed: the file ends inside it"),
    })
}

/// One bracket level (the first is the statement itself, with no bracket).
#[derive(Debug, Default)]
struct Level {
    open: Option<(char, usize)>,
    ops: usize,
}

#[derive(Debug)]
struct Scan {
    levels: Vec<Level>,
    /// Brackets plus operators over all levels: the depth right now.
    depth: usize,
}

impl Default for Scan {
    fn default() -> Self {
        Self {
            levels: vec![Level::default()],
            depth: 0,
        }
    }
}

const OPERATOR_CHARS: &str = "+-*/%|&^<>=!~.@";
const OPERATOR_WORDS: [&str; 7] = ["and", "or", "not", "in", "if", "else", "lambda"];

impl Scan {
    fn run(&mut self, src: &str) -> Result<(), Problem> {
        let bytes = src.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            i = match c {
                b'#' => skip_line(bytes, i),
                b'"' | b'\'' => skip_string(bytes, i),
                // A line continuation: the statement goes on.
                b'\\' => i + 2,
                b'(' | b'[' | b'{' => {
                    self.levels.push(Level {
                        open: Some((c as char, i)),
                        ops: 0,
                    });
                    self.deeper(i, 1)?;
                    i + 1
                }
                b')' | b']' | b'}' => {
                    self.close();
                    i + 1
                }
                b',' => {
                    self.reset_ops();
                    i + 1
                }
                b'\n' | b';' if self.levels.len() == 1 => {
                    self.reset_ops();
                    i + 1
                }
                _ if OPERATOR_CHARS.as_bytes().contains(&c) => {
                    self.count_op(i, 1)?;
                    i + 1
                }
                _ if c.is_ascii_alphabetic() || c == b'_' => {
                    let end = skip_word(bytes, i);
                    if OPERATOR_WORDS.contains(&&src[i..end]) {
                        self.count_op(i, end - i)?;
                    }
                    end
                }
                _ => i + 1,
            };
        }
        Ok(())
    }

    fn count_op(&mut self, at: usize, len: usize) -> Result<(), Problem> {
        if let Some(level) = self.levels.last_mut() {
            level.ops += 1;
        }
        self.deeper(at, len)
    }

    fn deeper(&mut self, at: usize, len: usize) -> Result<(), Problem> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Problem {
                offset: at,
                len,
                message: format!(
                    "expression nested too deeply: more than {MAX_DEPTH} levels of brackets \
                     and operators; split it into smaller expressions or variables"
                ),
            });
        }
        Ok(())
    }

    fn reset_ops(&mut self) {
        if let Some(level) = self.levels.last_mut() {
            self.depth -= level.ops;
            level.ops = 0;
        }
    }

    /// A closing bracket ends the innermost level; a stray one (nothing open) is
    /// starlark's to report.
    fn close(&mut self) {
        if self.levels.len() > 1
            && let Some(level) = self.levels.pop()
        {
            self.depth -= level.ops + 1;
        }
    }
}

pub(crate) fn skip_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |n| i + n)
}

fn skip_word(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map_or(bytes.len(), |n| i + n)
}

/// Past the string starting at `i` (its prefix, if any, was skipped as a word). A
/// backslash always keeps the next character in the string, raw or not, as in
/// Python; a one-quote string also ends at a newline (starlark reports that).
pub(crate) fn skip_string(bytes: &[u8], i: usize) -> usize {
    let q = bytes[i];
    let triple = bytes.len() >= i + 3 && bytes[i + 1] == q && bytes[i + 2] == q;
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' if !triple => return j,
            b if b == q && !triple => return j + 1,
            b if b == q && bytes.len() >= j + 3 && bytes[j + 1] == q && bytes[j + 2] == q => {
                return j + 3;
            }
            _ => j += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
#[path = "nesting_tests.rs"]
mod tests;
