//! Terminal escape sequences in program output: build tools and servers colour their
//! lines. The full-screen UI and the ci verdict show text, so they strip them.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';

/// `text` without ANSI escape sequences (CSI such as colours, OSC such as titles and
/// links, and the short escapes). Borrowed when there is nothing to strip.
pub fn strip(text: &str) -> Cow<'_, str> {
    if !text.contains(ESC) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ESC {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == BEL {
                        break;
                    }
                    if c == ESC && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // Others: intermediates (space../), then one final character
            // (`ESC ( B` selects a character set, `ESC 7` saves the cursor).
            Some(c) if (' '..='/').contains(&c) => {
                for c in chars.by_ref() {
                    if !(' '..='/').contains(&c) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn colours_titles_and_links_are_removed_and_plain_text_is_borrowed() {
        assert_eq!(strip("\u{1b}[1;31merror\u{1b}[0m: x"), "error: x");
        assert_eq!(strip("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(
            strip("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(strip("\u{1b}(Bplain"), "plain");
        assert!(matches!(
            strip("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }
}
