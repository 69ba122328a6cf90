use bollard::models::{ContainerState as EngineState, Health as EngineHealth};

use super::*;

fn inspect(
    status: ContainerStateStatusEnum,
    exit: i64,
    health: Option<HealthStatusEnum>,
) -> ContainerInspectResponse {
    ContainerInspectResponse {
        restart_count: Some(2),
        state: Some(EngineState {
            status: Some(status),
            exit_code: Some(exit),
            started_at: Some("2026-01-01T00:00:00Z".into()),
            health: health.map(|h| EngineHealth {
                status: Some(h),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn exited_container_reports_its_exit_code() {
    let s = container_status(
        "c1".into(),
        &inspect(ContainerStateStatusEnum::EXITED, 137, None),
    );
    assert_eq!(
        s,
        ContainerStatus {
            id: "c1".into(),
            state: ContainerState::Exited { code: 137 },
            health: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            restart_count: 2,
            restart_loses_files: false,
        }
    );
}

#[test]
fn health_none_means_no_healthcheck() {
    let running = ContainerStateStatusEnum::RUNNING;
    let s = container_status(
        "c".into(),
        &inspect(running, 0, Some(HealthStatusEnum::NONE)),
    );
    assert_eq!((s.state, s.health), (ContainerState::Running, None));
    let s = container_status(
        "c".into(),
        &inspect(running, 0, Some(HealthStatusEnum::STARTING)),
    );
    assert_eq!(s.health, Some(Health::Starting));
}

#[test]
fn empty_inspect_is_a_created_container() {
    let s = container_status("c".into(), &ContainerInspectResponse::default());
    assert_eq!(
        (s.state, s.restart_count, s.started_at),
        (ContainerState::Created, 0, String::new())
    );
}

#[test]
fn lines_split_across_chunks_are_joined_per_stream() {
    let mut l = LineSplitter::default();
    assert_eq!(l.push(Stream::Stdout, b"hel"), vec![]);
    assert_eq!(
        l.push(Stream::Stderr, b"oops\r\nwar"),
        vec![(Stream::Stderr, "oops".to_owned())]
    );
    assert_eq!(
        l.push(Stream::Stdout, b"lo\n\nworld\n"),
        vec![
            (Stream::Stdout, "hello".to_owned()),
            (Stream::Stdout, String::new()),
            (Stream::Stdout, "world".to_owned())
        ]
    );
    assert_eq!(l.finish(), vec![(Stream::Stderr, "war".to_owned())]);
    assert_eq!(l.finish(), vec![]);
}

#[test]
fn overlong_line_is_cut() {
    let mut l = LineSplitter::default();
    let long = vec![b'x'; MAX_LINE + 10];
    l.push(Stream::Stdout, &long);
    let lines = l.push(Stream::Stdout, b"yy\n");
    assert_eq!(lines[0].1.len(), MAX_LINE);
}

#[test]
fn one_off_containers_are_not_the_service_container() {
    let c = |id: &str, created: i64, oneoff: &str| ContainerSummary {
        id: Some(id.into()),
        created: Some(created),
        labels: Some(HashMap::from([(
            ONEOFF_LABEL.to_owned(),
            oneoff.to_owned(),
        )])),
        ..Default::default()
    };
    let list = vec![
        c("old", 1, "False"),
        c("run", 9, "True"),
        c("new", 5, "False"),
    ];
    assert_eq!(newest(list), Some("new".to_owned()));
    assert_eq!(newest(vec![]), None);
}

#[test]
fn event_names_the_service_from_the_actor_labels() {
    let msg = EventMessage {
        actor: Some(bollard::models::EventActor {
            id: Some("abc".into()),
            attributes: Some(HashMap::from([(
                SERVICE_LABEL.to_owned(),
                "web".to_owned(),
            )])),
        }),
        ..Default::default()
    };
    assert_eq!(
        to_event(msg),
        Some(ContainerEvent {
            service: "web".into()
        })
    );
    assert_eq!(to_event(EventMessage::default()), None);
}
