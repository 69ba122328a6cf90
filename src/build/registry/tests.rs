use super::*;

fn reg(host: &str, from_cluster: Option<&str>, single: Option<&str>) -> RegistrySpec {
    RegistrySpec {
        host: host.into(),
        host_from_cluster: from_cluster.map(Into::into),
        single_name: single.map(Into::into),
    }
}

#[test]
fn names_are_escaped_under_the_host() {
    let r = reg("localhost:5000", None, None);
    let table = [
        ("web", "localhost:5000/web:stilt-1"),
        ("docker.io/library/web", "localhost:5000/web:stilt-1"),
        ("docker.io/team/web", "localhost:5000/team_web:stilt-1"),
        ("team/web", "localhost:5000/team_web:stilt-1"),
        (
            "gcr.io/project/team/web",
            "localhost:5000/gcr.io_project_team_web:stilt-1",
        ),
        (
            "example.com:5001/web",
            "localhost:5000/example.com_5001_web:stilt-1",
        ),
        ("my-app.v2/api_x", "localhost:5000/my-app.v2_api_x:stilt-1"),
    ];
    for (image, want) in table {
        let got = rewrite(&r, image, "stilt-1");
        assert_eq!(got.push, want, "{image}");
        assert_eq!(got.cluster, want, "{image}: no host_from_cluster");
    }
}

#[test]
fn host_from_cluster_changes_only_the_cluster_reference() {
    let r = reg("localhost:5000", Some("registry:5000"), None);
    let got = rewrite(&r, "team/web", "stilt-9");
    assert_eq!(got.push, "localhost:5000/team_web:stilt-9");
    assert_eq!(got.cluster, "registry:5000/team_web:stilt-9");
    // An empty host_from_cluster means the same host.
    let same = rewrite(&reg("localhost:5000", Some(""), None), "web", "t");
    assert_eq!(same.cluster, "localhost:5000/web:t");
}

#[test]
fn a_host_with_a_path_keeps_it() {
    let r = reg("gcr.io/my-project/", None, None);
    let got = rewrite(&r, "team/web", "stilt-1");
    assert_eq!(got.push, "gcr.io/my-project/team_web:stilt-1");
}

#[test]
fn names_already_in_the_registry_are_kept() {
    let r = reg("localhost:5000", Some("kind-registry:5000"), None);
    let got = rewrite(&r, "localhost:5000/team/web", "stilt-1");
    assert_eq!(got.push, "localhost:5000/team/web:stilt-1");
    assert_eq!(got.cluster, "kind-registry:5000/team/web:stilt-1");
    // A host that is only a prefix of the name's first component is not a match.
    let other = rewrite(&r, "localhost:50001/web", "t");
    assert_eq!(other.push, "localhost:5000/localhost_50001_web:t");
}

#[test]
fn single_name_moves_the_image_name_into_the_tag() {
    let r = reg(
        "123.dkr.ecr.aws/acct",
        Some("ecr.internal/acct"),
        Some("dev-images"),
    );
    let table = [
        ("web", "123.dkr.ecr.aws/acct/dev-images:web-stilt-1"),
        (
            "team/api",
            "123.dkr.ecr.aws/acct/dev-images:team_api-stilt-1",
        ),
        (
            "gcr.io/p/db",
            "123.dkr.ecr.aws/acct/dev-images:gcr.io_p_db-stilt-1",
        ),
    ];
    for (image, want) in table {
        let got = rewrite(&r, image, "stilt-1");
        assert_eq!(got.push, want, "{image}");
        assert_eq!(
            got.cluster,
            want.replace("123.dkr.ecr.aws", "ecr.internal"),
            "{image}"
        );
    }
}

#[test]
fn no_host_leaves_the_name_alone() {
    let got = rewrite(&RegistrySpec::default(), "docker.io/library/web", "t");
    assert_eq!(got.push, "web:t");
    assert_eq!(got.cluster, "web:t");
}

#[test]
fn the_tag_is_split_after_the_last_slash() {
    assert_eq!(split_tag("web:stilt-1"), ("web", "stilt-1"));
    assert_eq!(
        split_tag("localhost:5000/web:stilt-1"),
        ("localhost:5000/web", "stilt-1")
    );
    assert_eq!(
        split_tag("localhost:5000/web"),
        ("localhost:5000/web", "latest")
    );
}
