use super::*;

fn depth_error_at(src: &str) -> Option<usize> {
    check_depth(src).err().map(|p| p.offset)
}

#[test]
fn nested_brackets_past_the_limit_are_refused_at_the_first_bracket_too_deep() {
    let src = format!("x = {}{}", "[".repeat(700), "]".repeat(700));
    // Depth 1 is the `=`; bracket k is depth 1 + k.
    assert_eq!(depth_error_at(&src), Some(4 + MAX_DEPTH - 1));
}

#[test]
fn a_long_operator_chain_is_refused_at_the_operator_past_the_limit() {
    let src = format!("x = 1{}", "+1".repeat(900));
    // Depth 1 is the `=`; each `+` is one more.
    let first_plus = 5;
    assert_eq!(depth_error_at(&src), Some(first_plus + 2 * (MAX_DEPTH - 1)));
}

#[test]
fn a_long_run_of_unclosed_parens_is_refused_before_the_end_of_the_file() {
    let src = format!("print(1)\nx = {}", "(".repeat(3000));
    assert_eq!(depth_error_at(&src), Some(13 + MAX_DEPTH - 1));
}

#[test]
fn an_expression_exactly_at_the_limit_is_accepted() {
    let src = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert_eq!(depth_error_at(&src), None);
}

#[test]
fn commas_and_statements_separate_siblings_so_long_flat_code_is_accepted() {
    let list = format!("x = [{}]\n", "1 + 1, ".repeat(5000));
    let lines = "y = a + b\n".repeat(5000);
    assert_eq!(depth_error_at(&(list + &lines)), None);
}

#[test]
fn brackets_and_operators_in_strings_and_comments_do_not_count() {
    let deep = "[".repeat(2000);
    let src = format!(
        "a = '{deep}'\nb = \"{deep}\\\"{deep}\"\nc = '''\n{deep}\n'''\n# {deep}\nd = r'\\'{deep}'\n"
    );
    assert_eq!(depth_error_at(&src), None);
    assert_eq!(unclosed(&src), None);
}

#[test]
fn an_unclosed_bracket_is_found_where_it_was_opened() {
    let src = "print('a')\nfoo(1, [2,\n  3\n";
    let p = unclosed(src).expect("an unclosed bracket");
    assert_eq!(p.offset, src.find('[').unwrap());
    assert!(p.message.contains("'[' is never closed"), "{}", p.message);
}

#[test]
fn closed_brackets_leave_nothing_unclosed() {
    assert_eq!(unclosed("f(a, [b, {'c': (1)}])\n"), None);
}
