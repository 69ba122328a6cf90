//! Reading a child's output line by line: newline and carriage return stripped, each
//! line capped (a runaway line cannot exhaust memory), invalid UTF-8 replaced.

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Longest line kept; the rest of it is dropped.
pub const MAX_LINE: usize = 64 * 1024;

/// Calls `f` with each line of `r` until EOF or a read error; stops early when `f`
/// returns `false`.
pub async fn for_each_line(r: impl AsyncRead + Unpin, mut f: impl FnMut(String) -> bool) {
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                buf.truncate(MAX_LINE);
                if !f(String::from_utf8_lossy(&buf).into_owned()) {
                    return;
                }
            }
        }
    }
}
