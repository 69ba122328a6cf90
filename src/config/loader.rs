//! Evaluating one Starlark file, and `load()` of other files relative to it.
//!
//! starlark's `FileLoader` only receives the string written in `load(...)`, so each
//! file gets its own loader that knows the file's directory. Loaded modules share
//! the one `Collector` (a library's `local_resource` calls still register), are
//! cached by absolute path (a file loaded twice runs once) and a stack of files
//! being loaded turns a `load()` cycle into a clear error instead of a stack overflow.

use std::path::{Path, PathBuf};

use starlark::codemap::{CodeMap, Pos, Span};
use starlark::environment::{FrozenModule, Module};
use starlark::eval::{Evaluator, FileLoader};
use starlark::syntax::{AstModule, Dialect};
use starlark::values::FrozenHeapName;

use super::collect::{Collector, normalize};
use super::globals::globals;
use super::nesting;
use super::tabs;

/// Tilt runs go.starlark.net with top-level `if`/`for`, recursion, sets and lambdas.
pub(crate) fn dialect() -> Dialect {
    Dialect {
        enable_top_level_stmt: true,
        enable_keyword_only_arguments: true,
        enable_f_strings: true,
        ..Dialect::Standard
    }
}

struct Loader<'c> {
    collector: &'c Collector,
    dir: PathBuf,
}

impl FileLoader for Loader<'_> {
    fn load(&self, path: &str) -> starlark::Result<FrozenModule> {
        load_module(self.collector, &self.dir, path)
    }
}

/// `load(path)` / `load_dynamic(path)` / `include(path)` from a file in `dir`.
pub(crate) fn load_module(c: &Collector, dir: &Path, path: &str) -> starlark::Result<FrozenModule> {
    if let Some(ext) = path.strip_prefix("ext://") {
        if ext == super::builtins::restart_process::NAME {
            return load_builtin_extension(c);
        }
        return Err(other(format!(
            "load('ext://{ext}'): fetching Tilt extensions is not supported by stilt yet \
             (only ext://restart_process is built in); copy the extension's Tiltfile into \
             the repo and load it by relative path"
        )));
    }
    let abs = normalize(&dir.join(path));
    if let Some(m) = c.loaded.borrow().get(&abs) {
        return Ok(m.clone());
    }
    if c.loading.borrow().contains(&abs) {
        let mut chain: Vec<String> = c
            .loading
            .borrow()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        chain.push(abs.display().to_string());
        return Err(other(format!("load() cycle: {}", chain.join(" -> "))));
    }
    c.record_read(&abs);
    let src = std::fs::read_to_string(&abs)
        .map_err(|e| other(format!("cannot load {path:?} ({}): {e}", abs.display())))?;
    c.loading.borrow_mut().push(abs.clone());
    let result = eval_file(c, &abs, src, true);
    c.loading.borrow_mut().pop();
    let module = result?.ok_or_else(|| other("internal error: loaded module was not frozen"))?;
    c.loaded.borrow_mut().insert(abs, module.clone());
    Ok(module)
}

/// `ext://restart_process`, which stilt implements itself (evaluated once per load).
fn load_builtin_extension(c: &Collector) -> starlark::Result<FrozenModule> {
    use super::builtins::restart_process::{EXTENSION, VIRTUAL_PATH};
    let path = PathBuf::from(VIRTUAL_PATH);
    if let Some(m) = c.loaded.borrow().get(&path) {
        return Ok(m.clone());
    }
    let module = eval_file(c, &path, EXTENSION.to_owned(), true)?
        .ok_or_else(|| other("internal error: loaded module was not frozen"))?;
    c.loaded.borrow_mut().insert(path, module.clone());
    Ok(module)
}

/// Parses and evaluates `src` as the file `path`; freezes the module when asked
/// (only frozen modules can be the target of `load()`).
pub(crate) fn eval_file(
    c: &Collector,
    path: &Path,
    src: String,
    freeze: bool,
) -> starlark::Result<Option<FrozenModule>> {
    let name = path.to_string_lossy().into_owned();
    let ast = parse(&name, src)?;
    let loader = Loader {
        collector: c,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let printer = PrintToCollector(c);
    Module::with_temp_heap(|module| {
        super::builtins::per_eval::inject(&module, c, path).map_err(starlark::Error::new_other)?;
        {
            let mut eval = Evaluator::new(&module);
            eval.extra = Some(c);
            eval.set_loader(&loader);
            eval.set_print_handler(&printer);
            eval.set_max_callstack_size(2000)?;
            c.control.attach(&mut eval);
            eval.eval_module(ast, globals())?;
        }
        if freeze {
            Ok(Some(
                module.freeze_named(FrozenHeapName::User(Box::new(name)))?,
            ))
        } else {
            Ok(None)
        }
    })
}

/// starlark's parse, with tab indentation accepted as in Tilt (see [`tabs`]), behind the nesting scan (a too-deep expression would overflow
/// the stack inside starlark) and with the place an unclosed bracket was opened
/// (starlark reports the end of the file, which it shows as `1:1`).
fn parse(name: &str, src: String) -> starlark::Result<AstModule> {
    let src = match tabs::without_tab_indentation(&src) {
        std::borrow::Cow::Borrowed(_) => src,
        std::borrow::Cow::Owned(rewritten) => rewritten,
    };
    if let Err(p) = nesting::check_depth(&src) {
        return Err(spanned(name, src, p));
    }
    match AstModule::parse(name, src.clone(), &dialect()) {
        Ok(ast) => Ok(ast),
        Err(e) => match nesting::unclosed(&src) {
            Some(p) if at_end(&e, &src) => Err(spanned(name, src, p)),
            _ => Err(e),
        },
    }
}

/// Whether a parse error is at the end of the file: when it is and a bracket is
/// still open, the bracket is the problem. starlark gives the end of the file as an
/// empty span, which resolves to `1:1`.
fn at_end(e: &starlark::Error, src: &str) -> bool {
    let end_of_code = src.trim_end().len();
    match e.span() {
        None => true,
        Some(s) => {
            let (begin, end) = (s.span.begin().get() as usize, s.span.end().get() as usize);
            (begin == 0 && end == 0) || begin >= end_of_code
        }
    }
}

fn spanned(name: &str, src: String, p: nesting::Problem) -> starlark::Error {
    let codemap = CodeMap::new(name.to_owned(), src);
    // Files past 4 GiB do not reach here: starlark's positions are u32 too.
    let pos = |n: usize| Pos::new(u32::try_from(n).unwrap_or(u32::MAX));
    let span = Span::new(pos(p.offset), pos(p.offset + p.len));
    starlark::Error::new_spanned(
        starlark::ErrorKind::Parser(anyhow::anyhow!(p.message)),
        span,
        &codemap,
    )
}

struct PrintToCollector<'c>(&'c Collector);

impl starlark::PrintHandler for PrintToCollector<'_> {
    fn println(&self, text: &str) -> starlark::Result<()> {
        self.0.output.borrow_mut().push(text.to_owned());
        Ok(())
    }
}

pub(crate) fn other(msg: impl Into<String>) -> starlark::Error {
    starlark::Error::new_other(anyhow::anyhow!(msg.into()))
}
