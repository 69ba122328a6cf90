//! Tests for `local()`.

use super::super::test_util::*;

#[test]
fn local_returns_stdout_and_echoes_command_and_output() {
    let p = Project::new(
        "v = local('echo hi; echo warn-line >&2')\n\
         local_resource('x', cmd='echo ' + str(v).strip() + ' ' + type(v))\n",
    );
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo hi blob");
    assert!(
        loaded
            .output
            .iter()
            .any(|l| l == "local: echo hi; echo warn-line >&2"),
        "{:?}",
        loaded.output
    );
    assert!(
        loaded.output.iter().any(|l| l.ends_with("hi")),
        "{:?}",
        loaded.output
    );
    assert!(
        loaded.output.iter().any(|l| l.ends_with("warn-line")),
        "{:?}",
        loaded.output
    );
}

#[test]
fn quiet_and_echo_off_keep_the_output_clean() {
    let p = Project::new(
        "v = local('echo secret', quiet=True, echo_off=True)\n\
         local_resource('x', cmd='echo ' + str(v).strip())\n",
    );
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo secret");
    assert!(loaded.output.is_empty(), "{:?}", loaded.output);
}

#[test]
fn argv_list_is_not_run_through_a_shell() {
    let p = Project::new(
        "v = local(['printf', '%s|', 'a b', '$HOME'], quiet=True)\n\
         local_resource('x', cmd='echo ' + str(v))\n",
    );
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo a b|$HOME|");
    assert!(
        loaded
            .output
            .iter()
            .any(|l| l == "local: printf '%s|' 'a b' '$HOME'"),
        "{:?}",
        loaded.output
    );
}

#[test]
fn failure_names_command_exit_code_and_stderr() {
    let p = Project::new("x = 1\ny = local('echo out; echo boom >&2; exit 3')\n");
    let f = p.fail();
    assert_fails_at(
        &f,
        "command \"echo out; echo boom >&2; exit 3\" failed with exit code 3",
        2,
        5,
    );
    let text = f.error.to_string();
    assert!(text.contains("stderr:\nboom"), "{text}");
    assert!(text.contains("stdout:\nout"), "{text}");
}

#[test]
fn missing_program_is_a_clear_error() {
    let p = Project::new("local(['stilt-no-such-program-xyz', '--version'])\n");
    assert_fails_at(
        &p.fail(),
        "command not found: \"stilt-no-such-program-xyz\"",
        1,
        1,
    );
    let p = Project::new("\nlocal('stilt-no-such-program-xyz')\n");
    assert_fails_at(&p.fail(), "exit code 127 (command not found)", 2, 1);
}

#[test]
fn env_dir_stdin_and_putenv_reach_the_command() {
    let p = Project::new(
        "os.putenv('STILT_T_A', 'from-putenv')\n\
         os.unsetenv('HOME')\n\
         v = local('echo $STILT_T_A $STILT_T_B ${HOME:-nohome} $(basename $PWD) $(cat)',\n\
                   env={'STILT_T_B': 'from-env'}, dir='sub', stdin=blob('piped'), quiet=True)\n\
         local_resource('x', cmd='echo ' + str(v).strip())\n",
    );
    p.write("sub/keep", "");
    let loaded = p.load();
    assert_eq!(
        cmd_of(&loaded, "x"),
        "echo from-putenv from-env nohome sub piped"
    );
}

#[test]
fn missing_dir_is_an_error() {
    let p = Project::new("local('true', dir='nowhere')\n");
    assert_fails_at(&p.fail(), "working directory", 1, 1);
}
