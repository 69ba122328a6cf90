//! Where a container's next log stream starts, and which of its lines were already
//! passed on. Pure, so the no-duplicates rule is tested without a cluster.

use k8s_openapi::jiff::Timestamp;

/// Splits a line the API sent with `timestamps=true` (`<RFC 3339 time> <text>`) into
/// its time and text; `None` when it does not start with a time.
pub fn split_timestamp(line: &str) -> Option<(Timestamp, &str)> {
    let (time, text) = match line.split_once(' ') {
        Some((time, text)) => (time, text),
        // A line that was empty when written.
        None => (line, ""),
    };
    let time = time.parse::<Timestamp>().ok()?;
    Some((time, text))
}

/// One container's progress through its logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    since_unix: i64,
    last: Option<Timestamp>,
}

impl Resume {
    /// `since_unix` = 0: from the container's first line; else from that second.
    pub fn new(since_unix: i64) -> Self {
        Resume {
            since_unix,
            last: None,
        }
    }

    /// The `sinceTime` for the next stream: the last line's second (floored: the
    /// API rounds to seconds, and rounding up would lose lines), else `since_unix`.
    pub fn since_time(&self) -> Option<Timestamp> {
        match self.last {
            Some(last) => Timestamp::from_second(last.as_second()).ok(),
            None if self.since_unix > 0 => Timestamp::from_second(self.since_unix).ok(),
            None => None,
        }
    }

    /// Takes a raw line; returns its text when it is new (and remembers its time),
    /// `None` when an earlier stream already gave it. Lines without a time pass.
    pub fn accept<'a>(&mut self, raw: &'a str) -> Option<&'a str> {
        let Some((time, text)) = split_timestamp(raw) else {
            return Some(raw);
        };
        if self.last.is_some_and(|last| time <= last) {
            return None;
        }
        if self.since_unix > 0 && time.as_second() < self.since_unix {
            return None;
        }
        self.last = Some(time);
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_time_and_text() {
        let (time, text) = split_timestamp("2026-11-29T04:20:00.123456789Z hello world").unwrap();
        assert_eq!(text, "hello world");
        assert_eq!(time.subsec_nanosecond(), 123_456_789);
        let (_, empty) = split_timestamp("2026-11-29T04:20:00Z").unwrap();
        assert_eq!(empty, "");
        assert!(split_timestamp("no time here").is_none());
    }

    #[test]
    fn a_reopened_stream_repeats_nothing() {
        let mut resume = Resume::new(0);
        assert_eq!(resume.since_time(), None);
        assert_eq!(resume.accept("2026-11-29T04:20:00.5Z one"), Some("one"));
        assert_eq!(resume.accept("2026-11-29T04:20:00.75Z two"), Some("two"));
        // The next stream starts at the second of the last line (floored)...
        assert_eq!(
            resume.since_time().unwrap().to_string(),
            "2026-11-29T04:20:00Z"
        );
        // ...so it repeats lines of that second, which are dropped.
        assert_eq!(resume.accept("2026-11-29T04:20:00.5Z one"), None);
        assert_eq!(resume.accept("2026-11-29T04:20:00.75Z two"), None);
        assert_eq!(resume.accept("2026-11-29T04:20:00.8Z three"), Some("three"));
    }

    #[test]
    fn times_with_fewer_digits_compare_as_times() {
        // RFC 3339 nano format drops trailing zeros: .1234 is before .12345.
        let mut resume = Resume::new(0);
        assert_eq!(resume.accept("2026-11-29T04:20:00.1234Z a"), Some("a"));
        assert_eq!(resume.accept("2026-11-29T04:20:00.12345Z b"), Some("b"));
    }

    #[test]
    fn since_unix_starts_there_and_drops_earlier_lines() {
        let since = "2026-11-29T04:20:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second();
        let mut resume = Resume::new(since);
        assert_eq!(resume.since_time().unwrap().as_second(), since);
        assert_eq!(resume.accept("2026-11-29T04:19:59.9Z old"), None);
        assert_eq!(resume.accept("2026-11-29T04:20:00.1Z new"), Some("new"));
    }

    #[test]
    fn lines_without_a_time_pass_unchanged() {
        let mut resume = Resume::new(0);
        assert_eq!(resume.accept("garbage"), Some("garbage"));
        assert_eq!(resume.since_time(), None);
    }
}
