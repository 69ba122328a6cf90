//! Folding repeated frames out of a starlark traceback.
//!
//! Runaway recursion ends with starlark's "call stack overflow" and a traceback of
//! every frame: thousands of identical pairs of lines that bury the message. A run of
//! the same frame (or the same few frames, for mutual recursion) is shown once,
//! followed by how many more times it repeated.

/// Longest cycle of frames folded (f -> g -> h -> f ...).
const MAX_CYCLE: usize = 4;
/// A block is folded when it occurs at least this many times in a row; shorter
/// repeats (a recursion two deep) read fine as they are.
const MIN_REPEATS: usize = 3;

/// `rendered` with each run of repeated traceback frames shown once.
pub(crate) fn fold_repeated_frames(rendered: &str) -> String {
    let units = units(rendered);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < units.len() {
        match best_cycle(&units, i) {
            Some((len, times)) => {
                out.extend(units[i..i + len].iter().map(|u| u.text.clone()));
                out.push(repeated_line(len, times - 1));
                i += len * times;
            }
            None => {
                out.push(units[i].text.clone());
                i += 1;
            }
        }
    }
    out.join("\n")
}

/// A frame (`  * file:line, in f` and its indented source line) or any other line.
struct Unit {
    text: String,
    frame: bool,
}

fn units(rendered: &str) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    for line in rendered.lines() {
        match units.last_mut() {
            Some(u) if u.frame && line.starts_with("      ") => {
                u.text.push('\n');
                u.text.push_str(line);
            }
            _ => units.push(Unit {
                text: line.to_owned(),
                frame: line.starts_with("  * "),
            }),
        }
    }
    units
}

/// The cycle starting at `i` that covers the most frames: (its length, how many
/// times in a row it occurs), if it occurs at least [`MIN_REPEATS`] times.
fn best_cycle(units: &[Unit], i: usize) -> Option<(usize, usize)> {
    (1..=MAX_CYCLE)
        .filter(|&len| i + len <= units.len() && units[i..i + len].iter().all(|u| u.frame))
        .map(|len| (len, repeats(units, i, len)))
        .filter(|&(_, times)| times >= MIN_REPEATS)
        .max_by_key(|&(len, times)| (len * times, std::cmp::Reverse(len)))
}

fn repeats(units: &[Unit], i: usize, len: usize) -> usize {
    let same = |a: usize, b: usize| (0..len).all(|k| units[a + k].text == units[b + k].text);
    let mut times = 1;
    while i + (times + 1) * len <= units.len() && same(i, i + times * len) {
        times += 1;
    }
    times
}

fn repeated_line(len: usize, more: usize) -> String {
    match len {
        1 => format!("  ... the frame above repeated {more} more times"),
        n => format!("  ... the {n} frames above repeated {more} more times"),
    }
}

#[cfg(test)]
#[path = "traceback_tests.rs"]
mod tests;
