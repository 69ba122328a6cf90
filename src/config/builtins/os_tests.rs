//! Tests for `os`, `os.path`, `sys` and `shlex`.

use super::super::test_util::*;
use super::{go_clean, shell_quote};

#[test]
fn shlex_quote_follows_posix_rules() {
    assert_eq!(shell_quote(""), "''");
    assert_eq!(shell_quote("plain-word_1.2/x"), "plain-word_1.2/x");
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("it's"), r#"'it'"'"'s'"#);
    let p = Project::new(
        "local_resource('x', cmd='echo ' + ' '.join([shlex.quote(s) for s in ['', 'a b', 'ok', '$x']]))\n",
    );
    assert_eq!(cmd_of(&p.load(), "x"), "echo '' 'a b' ok '$x'");
}

#[test]
fn go_clean_matches_go() {
    assert_eq!(go_clean(""), ".");
    assert_eq!(go_clean("a//b/./c/.."), "a/b");
    assert_eq!(go_clean("../../a"), "../../a");
    assert_eq!(go_clean("/../a/"), "/a");
}

#[test]
fn os_path_functions_resolve_against_the_tiltfile_dir() {
    let p = Project::new(
        "parts = [\n\
           os.path.abspath('sub/../f.txt'),\n\
           os.path.relpath(os.path.abspath('sub/deep/x')),\n\
           os.path.relpath('f.txt', 'sub/deep'),\n\
           os.path.basename('/a/b.txt'),\n\
           os.path.dirname('/a/b.txt'),\n\
           os.path.join('a', 'b/', '../c'),\n\
           str(os.path.exists('f.txt')),\n\
           str(os.path.exists('nope')),\n\
           str(os.path.isdir('sub')),\n\
           str(os.path.isfile('sub')),\n\
           os.path.realpath('link'),\n\
           os.getcwd(),\n\
           os.name,\n\
         ]\n\
         local_resource('x', cmd='echo ' + ' '.join(parts))\n",
    );
    p.write("f.txt", "").write("sub/deep/x", "");
    let root = p.path();
    std::os::unix::fs::symlink(root.join("f.txt"), root.join("link")).unwrap();
    let want = format!(
        "echo {f} sub/deep/x ../../f.txt b.txt /a a/c True False True False {f} {root} posix",
        f = root.join("f.txt").display(),
        root = root.display()
    );
    assert_eq!(cmd_of(&p.load(), "x"), want);
}

#[test]
fn getcwd_in_a_loaded_file_is_that_files_dir() {
    let p =
        Project::new("load('lib/lib.star', 'where')\nlocal_resource('x', cmd='echo ' + where)\n");
    p.write("lib/lib.star", "where = os.getcwd()\n");
    assert_eq!(
        cmd_of(&p.load(), "x"),
        format!("echo {}", p.path().join("lib").display())
    );
}

#[test]
fn getenv_putenv_unsetenv_and_environ() {
    // PATH is always set for the test process; the STILT_OS_T_* names never are.
    let p = Project::new(
        "a = os.getenv('STILT_OS_T_NONE', 'dflt')\n\
         b = os.getenv('STILT_OS_T_NONE')\n\
         os.putenv('STILT_OS_T_SET', 'v1')\n\
         c = os.getenv('STILT_OS_T_SET')\n\
         os.unsetenv('STILT_OS_T_SET')\n\
         d = os.getenv('STILT_OS_T_SET', 'gone')\n\
         e = 'PATH' in os.environ and os.environ['PATH'] == os.getenv('PATH')\n\
         f = os.environ.get('STILT_OS_T_NONE', 'nodict')\n\
         local_resource('x', cmd='echo %s %s %s %s %s %s' % (a, b, c, d, e, f))\n",
    );
    assert_eq!(cmd_of(&p.load(), "x"), "echo dflt None v1 gone True nodict");
    assert!(
        std::env::var("STILT_OS_T_SET").is_err(),
        "putenv must not leak into the process"
    );
}

#[test]
fn sys_argv_and_executable() {
    let p = Project::new(
        "local_resource('x', cmd='echo %s %s' % (type(sys.argv), len(sys.argv) > 0 and os.path.exists(sys.executable)))\n",
    );
    assert_eq!(cmd_of(&p.load(), "x"), "echo list True");
}

#[test]
fn realpath_of_a_missing_file_is_an_error() {
    let p = Project::new("\n\nos.path.realpath('missing')\n");
    assert_fails_at(&p.fail(), "os.path.realpath()", 3, 1);
}

#[test]
fn blobs_are_accepted_where_strings_are() {
    let p = Project::new(
        "os.putenv('K', local('printf v', quiet=True))\n\
         local_resource('x', cmd=local('printf \"echo $K\"', quiet=True), deps=[blob('a.txt')])\n",
    );
    assert_eq!(cmd_of(&p.load(), "x"), "echo v");
}
