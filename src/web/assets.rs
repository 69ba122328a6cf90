//! The dashboard's files (`ui/`), embedded in the binary at build time so a stilt
//! binary serves its own page with nothing to install. Adding a file to `ui/` means
//! adding a line to [`FILES`].

/// (name under `/static/`, content type, bytes).
pub const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../ui/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../ui/style.css"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../ui/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../ui/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../ui/favicon.svg"),
    ),
];

/// The placeholder in `index.html` the server replaces with the instance token.
pub const TOKEN_PLACEHOLDER: &str = "{{STILT_TOKEN}}";

/// A file by its name under `/static/`.
pub fn file(name: &str) -> Option<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, ty, body)| (*ty, *body))
}

/// `index.html` with the token filled in.
pub fn index(token: &str) -> String {
    let raw = file("index.html").map(|(_, b)| b).unwrap_or_default();
    String::from_utf8_lossy(raw).replace(TOKEN_PLACEHOLDER, token)
}
