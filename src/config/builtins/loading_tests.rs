//! Tests for `load_dynamic`, `include`, `warn` and `exit`.

use super::super::test_util::*;

#[test]
fn load_dynamic_returns_public_symbols_relative_to_the_caller() {
    let p = Project::new(
        "d = load_dynamic('lib/a.star')\n\
         local_resource('x', cmd='echo %s %s %s' % (sorted(d.keys()), d['name'], d['twice'](4)))\n",
    );
    p.write(
        "lib/a.star",
        "name = read_file('data.txt')\n_private = 1\ndef twice(n):\n    return n * 2\n",
    );
    p.write("lib/data.txt", "from-lib");
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), r#"echo ["name", "twice"] from-lib 8"#);
    assert!(has(&loaded.files_read, &p.path().join("lib/a.star")));
    assert!(has(&loaded.files_read, &p.path().join("lib/data.txt")));
}

#[test]
fn include_runs_the_file_once_for_its_side_effects() {
    let p = Project::new(
        "r = include('sub/res.star')\n\
         include('sub/res.star')\n\
         local_resource('main', cmd='echo %s' % r)\n",
    );
    p.write(
        "sub/res.star",
        "local_resource('from-include', cmd='echo inc')\n",
    );
    let loaded = p.load();
    let names: Vec<&str> = loaded
        .project
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["from-include", "main"]);
    assert_eq!(cmd_of(&loaded, "main"), "echo None");
    assert!(has(&loaded.files_read, &p.path().join("sub/res.star")));
}

#[test]
fn load_dynamic_of_a_missing_file_fails_at_the_call() {
    let p = Project::new("\nload_dynamic('nope.star')\n");
    assert_fails_at(&p.fail(), "cannot load \"nope.star\"", 2, 1);
}

#[test]
fn exit_keeps_resources_declared_before_it() {
    let p = Project::new(
        "local_resource('before', cmd='echo 1')\n\
         exit('stopping early')\n\
         local_resource('after', cmd='echo 2')\n",
    );
    let loaded = p.load();
    let names: Vec<&str> = loaded
        .project
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["before"]);
    assert!(
        loaded.output.iter().any(|l| l == "stopping early"),
        "{:?}",
        loaded.output
    );
}

#[test]
fn exit_in_a_loaded_file_stops_everything_successfully() {
    let p = Project::new(
        "local_resource('before', cmd='echo 1')\n\
         include('stop.star')\n\
         local_resource('after', cmd='echo 2')\n",
    );
    p.write("stop.star", "exit()\n");
    let loaded = p.load();
    assert_eq!(loaded.project.resources.len(), 1);
    assert!(loaded.output.is_empty(), "{:?}", loaded.output);
}

#[test]
fn warn_records_a_warning_and_continues() {
    let p = Project::new("warn('careful: %d' % 3)\nlocal_resource('x', cmd='echo ok')\n");
    let loaded = p.load();
    assert_eq!(loaded.warnings, ["careful: 3"]);
    assert_eq!(loaded.project.resources.len(), 1);
}
