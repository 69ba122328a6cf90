//! Tests for the file, encoding and `local()` builtins.

use super::super::test_util::*;

#[test]
fn read_file_returns_a_blob_and_records_the_path() {
    let p = Project::new(
        "b = read_file('msg.txt')\n\
         local_resource('x', cmd='echo ' + str(b).strip() + ' ' + type(b))\n",
    );
    p.write("msg.txt", "hello\n");
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo hello blob");
    assert!(has(&loaded.files_read, &p.path().join("msg.txt")));
}

#[test]
fn read_file_default_still_records_the_missing_path() {
    let p = Project::new(
        "b = read_file('sub/../missing.txt', default='fallback')\n\
         local_resource('x', cmd='echo ' + str(b))\n",
    );
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo fallback");
    assert!(has(&loaded.files_read, &p.path().join("missing.txt")));
}

#[test]
fn read_file_missing_without_default_names_the_absolute_path() {
    let p = Project::new("x = 1\nread_file('nope.txt')\n");
    let f = p.fail();
    let abs = p.path().join("nope.txt");
    assert_fails_at(&f, &format!("file not found: {}", abs.display()), 2, 1);
    assert!(has(&f.files_read, &abs));
}

#[test]
fn read_json_and_read_yaml_round_trip() {
    let p = Project::new(
        "j = read_json('a.json')\n\
         y = read_yaml('a.yaml')\n\
         s = read_yaml_stream('s.yaml')\n\
         d = read_json('none.json', default={'k': 'dflt'})\n\
         local_resource('x', cmd='echo %s %s %s %s %s' % (j['name'], j['n'] + 1, y['list'][1], len(s), d['k']))\n\
         local_resource('y', cmd='echo ' + str(encode_json(j)).replace('\\n', ''))\n\
         local_resource('z', cmd='echo ' + ','.join([doc['kind'] for doc in s]))\n",
    );
    p.write("a.json", r#"{"name": "web", "n": 41, "f": 1.5, "z": null}"#);
    p.write("a.yaml", "list:\n  - one\n  - two\n");
    p.write("s.yaml", "kind: A\n---\nkind: B\n---\n");
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo web 42 two 2 dflt");
    assert_eq!(
        cmd_of(&loaded, "y"),
        r#"echo {  "name": "web",  "n": 41,  "f": 1.5,  "z": null}"#
    );
    assert_eq!(cmd_of(&loaded, "z"), "echo A,B");
    for f in ["a.json", "a.yaml", "s.yaml", "none.json"] {
        assert!(
            has(&loaded.files_read, &p.path().join(f)),
            "{f} not recorded"
        );
    }
}

#[test]
fn json_parse_error_names_the_file_and_position() {
    let p = Project::new("\nv = read_json('bad.json')\n");
    p.write("bad.json", "{\n  \"a\": 1,\n  oops\n}\n");
    let f = p.fail();
    let text = f.error.to_string();
    assert!(
        text.contains(&format!("{}", p.path().join("bad.json").display())),
        "{text}"
    );
    assert!(text.contains("line 3"), "{text}");
    assert_fails_at(&f, "as JSON", 2, 5);
}

#[test]
fn yaml_parse_error_names_the_file_and_line() {
    let p = Project::new("v = read_yaml('bad.yaml')\n");
    p.write("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n");
    let f = p.fail();
    let text = f.error.to_string();
    assert!(
        text.contains(&format!("{}", p.path().join("bad.yaml").display())),
        "{text}"
    );
    assert!(text.contains("line 3, column 2"), "{text}");
    assert_fails_at(&f, "as YAML", 1, 5);
}

#[test]
fn encode_decode_keep_nested_types() {
    let p = Project::new(
        "v = {'b': [1, 2.5, None, True], 'a': {'s': 'x', 'big': 9007199254740993}}\n\
         j = decode_json(encode_json(v))\n\
         y = decode_yaml(encode_yaml(v))\n\
         ys = decode_yaml_stream(encode_yaml_stream([v, {'k': 1}]))\n\
         blobbed = decode_json(blob('{\"z\": 1}'))\n\
         ok = j == v and y == v and ys == [v, {'k': 1}] and blobbed == {'z': 1}\n\
         types = [type(x) for x in j['b']]\n\
         local_resource('x', cmd='echo %s %s %s' % (ok, ','.join(types), list(j.keys())))\n",
    );
    let loaded = p.load();
    assert_eq!(
        cmd_of(&loaded, "x"),
        r#"echo True int,float,NoneType,bool ["b", "a"]"#
    );
}

#[test]
fn encode_json_rejects_unencodable_values() {
    let p = Project::new("encode_json({'f': len})\n");
    assert_fails_at(&p.fail(), "cannot encode a value of type", 1, 1);
}

#[test]
fn watch_file_and_listdir() {
    let p = Project::new(
        "watch_file('conf')\n\
         flat = listdir('d')\n\
         deep = listdir('d', recursive=True)\n\
         local_resource('x', cmd='echo %d %d %s' % (len(flat), len(deep), ' '.join([os.path.basename(f) for f in deep])))\n",
    );
    p.write("d/b.txt", "")
        .write("d/a.txt", "")
        .write("d/sub/c.txt", "");
    std::fs::create_dir(p.path().join("conf")).unwrap();
    let loaded = p.load();
    assert_eq!(cmd_of(&loaded, "x"), "echo 2 3 a.txt b.txt c.txt");
    assert!(has(&loaded.files_read, &p.path().join("conf")));
    assert!(has(&loaded.files_read, &p.path().join("d")));
}

#[test]
fn listdir_returns_absolute_sorted_files() {
    let p = Project::new("local_resource('x', cmd='echo ' + ' '.join(listdir('.')))\n");
    p.write("b", "").write("a", "");
    std::fs::create_dir(p.path().join("dir")).unwrap();
    let root = p.path();
    let want = format!(
        "echo {} {} {}",
        root.join("Tiltfile").display(),
        root.join("a").display(),
        root.join("b").display()
    );
    // Sorted byte-wise: "Tiltfile" < "a" < "b".
    assert_eq!(cmd_of(&p.load(), "x"), want);
}
