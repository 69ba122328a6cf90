use super::without_tab_indentation;

#[test]
fn tab_indented_blocks_become_one_space_per_tab_so_offsets_are_unchanged() {
    let src = "def f():\n\tif True:\n\t\treturn 1\n\treturn 2\n";
    let out = without_tab_indentation(src);
    assert_eq!(out, "def f():\n if True:\n  return 1\n return 2\n");
    assert_eq!(out.len(), src.len());
}

#[test]
fn tabs_inside_strings_brackets_and_comments_are_kept() {
    let src = "x = \"\"\"\n\tkept\n\"\"\"\ny = [\n\t1,\n]\n# \tcomment\nif x:\n\tz = '\\t'\n";
    let out = without_tab_indentation(src);
    assert_eq!(
        out,
        "x = \"\"\"\n\tkept\n\"\"\"\ny = [\n\t1,\n]\n# \tcomment\nif x:\n z = '\\t'\n"
    );
}

#[test]
fn mixed_tabs_and_spaces_are_expanded_to_go_widths() {
    // Go: a tab is 8 columns, so "\t" is deeper than 4 spaces; one column per tab would
    // put it shallower and break the block.
    let src = "if True:\n    if True:\n\t\tx = 1\n";
    assert_eq!(
        without_tab_indentation(src),
        "if True:\n    if True:\n                x = 1\n"
    );
}

#[test]
fn a_file_without_tabs_is_not_copied() {
    assert!(matches!(
        without_tab_indentation("x = 1\n"),
        std::borrow::Cow::Borrowed(_)
    ));
}
