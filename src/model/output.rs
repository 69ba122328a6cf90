//! How output and processes are described to the store: which stream a line came
//! from, and how a process ended. Plain data, shared by `process` (which produces it)
//! and `store` (which keeps it).

/// Which stream a line of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// stilt's own lines about the resource (run started, failed, ...).
    System,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    /// How a process that `std::process` reaped ended: its code, else the signal that
    /// killed it. A status with neither (not possible for a reaped child on Unix) reads
    /// as code -1, so it is never mistaken for success.
    pub fn from_status(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(s)) => Exit::Signal(s),
            (None, None) => Exit::Code(-1),
        }
    }

    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::Exit;

    #[test]
    fn a_status_reads_as_its_code_or_the_signal_that_killed_it() {
        // Raw wait(2) statuses: the code in the second byte, a signal in the low bits.
        assert_eq!(
            Exit::from_status(ExitStatus::from_raw(3 << 8)),
            Exit::Code(3)
        );
        assert_eq!(Exit::from_status(ExitStatus::from_raw(9)), Exit::Signal(9));
        assert!(Exit::from_status(ExitStatus::from_raw(0)).success());
    }
}
