//! Tests for `config.*`.

use super::super::test_util::*;
use super::{ArgDef, ArgKind, parse_args};
use crate::config::{LoadOptions, load};

const DEFINE: &str = "config.define_string('env')\n\
                      config.define_string_list('to-run', args=True)\n\
                      config.define_bool('debug')\n\
                      config.define_string_list('tags')\n\
                      config.define_object('extra')\n\
                      cfg = config.parse()\n";

fn echo_cfg() -> String {
    format!(
        "{DEFINE}local_resource('x', cmd='echo ' + str(encode_json(cfg)).replace('\\n', '').replace(' ', ''))\n"
    )
}

#[test]
fn args_after_dashdash_follow_go_flag_rules() {
    let p = Project::new(&echo_cfg());
    let loaded = p.load_args(&[
        "--env",
        "prod",
        "--debug",
        "--tags=a",
        "--tags",
        "b",
        "--extra",
        r#"{"k":1}"#,
        "web",
        "api",
    ]);
    assert_eq!(
        cmd_of(&loaded, "x"),
        r#"echo {"env":"prod","to-run":["web","api"],"debug":true,"tags":["a","b"],"extra":{"k":1}}"#
    );
}

#[test]
fn only_given_values_are_in_the_dict() {
    let p = Project::new(&echo_cfg());
    assert_eq!(cmd_of(&p.load(), "x"), "echo {}");
}

#[test]
fn tilt_config_json_is_read_and_the_command_line_wins() {
    let p = Project::new(&echo_cfg());
    p.write(
        "tilt_config.json",
        r#"{"env": "dev", "debug": true, "tags": ["f"]}"#,
    );
    let loaded = p.load_args(&["--env=staging", "--debug=false"]);
    assert_eq!(
        cmd_of(&loaded, "x"),
        r#"echo {"env":"staging","debug":false,"tags":["f"]}"#
    );
    assert!(has(&loaded.files_read, &p.path().join("tilt_config.json")));
}

#[test]
fn missing_tilt_config_json_is_still_watched() {
    let p = Project::new(&echo_cfg());
    let loaded = p.load();
    assert!(has(&loaded.files_read, &p.path().join("tilt_config.json")));
}

#[test]
fn unknown_flag_is_an_error_naming_it() {
    let p = Project::new(&echo_cfg());
    let f = p.fail_args(&["--nope", "x"]);
    assert_fails_at(&f, "unknown flag --nope", 6, 7);
}

#[test]
fn wrong_types_are_errors() {
    let p = Project::new(&echo_cfg());
    assert_fails_at(
        &p.fail_args(&["--debug=maybe"]),
        "invalid value \"maybe\" for --debug",
        6,
        7,
    );
    assert_fails_at(
        &p.fail_args(&["--extra", "[1]"]),
        "expected a JSON object",
        6,
        7,
    );
    assert_fails_at(&p.fail_args(&["--env"]), "flag --env needs a value", 6, 7);
    p.write("tilt_config.json", r#"{"env": 3}"#);
    assert_fails_at(&p.fail(), "setting \"env\" must be a string", 6, 7);
    p.write("tilt_config.json", r#"{"who": "x"}"#);
    assert_fails_at(&p.fail(), "unknown setting \"who\"", 6, 7);
}

#[test]
fn two_args_settings_are_an_error() {
    let p = Project::new(
        "config.define_string_list('a', args=True)\nconfig.define_string('b', args=True)\n",
    );
    assert_fails_at(
        &p.fail(),
        "\"a\" already takes the positional arguments",
        2,
        1,
    );
}

#[test]
fn positional_words_need_an_args_setting() {
    let p = Project::new("config.define_string('a')\ncfg = config.parse()\n");
    assert_fails_at(&p.fail_args(&["web"]), "no setting takes them", 2, 7);
}

#[test]
fn parse_stops_at_the_first_positional_word() {
    let defs = [
        ArgDef {
            name: "rest".into(),
            kind: ArgKind::StringList,
            args: true,
            usage: String::new(),
        },
        ArgDef {
            name: "v".into(),
            kind: ArgKind::Bool,
            args: false,
            usage: String::new(),
        },
    ];
    let words: Vec<String> = ["-v", "a", "--v", "--", "b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let values = parse_args(&defs, &words).unwrap();
    let rest = values.iter().find(|(k, _)| k == "rest").unwrap();
    assert_eq!(
        format!("{:?}", rest.1),
        r#"List([Str("a"), Str("--v"), Str("--"), Str("b")])"#
    );
}

#[test]
fn enabled_resources_subcommand_and_paths() {
    let p = Project::new(
        "config.set_enabled_resources(['x'])\n\
         local_resource('x', cmd='echo %s %s %s' % (config.tilt_subcommand, config.main_dir, os.path.basename(config.main_path)))\n",
    );
    let loaded = p.load();
    assert_eq!(
        cmd_of(&loaded, "x"),
        format!("echo up {} Tiltfile", p.path().display())
    );

    // The enabled list lives in the collector's ConfigArgs; check it through a direct load.
    let c =
        crate::config::collect::Collector::new(p.path().join("Tiltfile"), vec![], "down".into());
    let src = "config.set_enabled_resources(['a', 'b'])\nconfig.clear_enabled_resources()\nconfig.set_enabled_resources(['c'])\n";
    crate::config::loader::eval_file(&c, &p.path().join("Tiltfile"), src.into(), false).unwrap();
    assert_eq!(
        c.config.borrow().enabled_resources,
        Some(vec!["c".to_owned()])
    );
    let src = "config.clear_enabled_resources()\ncfg = config.parse()\n";
    let c =
        crate::config::collect::Collector::new(p.path().join("Tiltfile"), vec![], "down".into());
    crate::config::loader::eval_file(&c, &p.path().join("Tiltfile"), src.into(), false).unwrap();
    assert_eq!(c.config.borrow().enabled_resources, Some(vec![]));
    assert!(c.config.borrow().parsed);
}

#[test]
fn subcommand_is_visible_in_loaded_files() {
    let p = Project::new("load('lib.star', 'sub')\nlocal_resource('x', cmd='echo ' + sub)\n");
    p.write("lib.star", "sub = config.tilt_subcommand\n");
    let loaded = load(&LoadOptions {
        tiltfile: p.path().join("Tiltfile"),
        args: vec![],
        subcommand: "down".into(),
        k8s: Default::default(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(cmd_of(&loaded, "x"), "echo down");
}
