// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use bytes::Bytes;
use futures_util::StreamExt;

use super::proto::{
    Decoder, Frame, MAX_FRAME, Outcome, ProtoError, VERSION, check_hello, read_frame,
};
use super::{Batch, ChannelError, Chunk, Session, failures};
use crate::liveupdate::CopyFile;

fn every_kind() -> Vec<Frame> {
    vec![
        Frame::Hello { version: VERSION },
        Frame::Delete {
            path: "/app/gone".into(),
        },
        Frame::Mkdir {
            path: "/app/new".into(),
            mode: 0o750,
        },
        Frame::Write {
            path: "/app/new/é.txt".into(),
            mode: 0o644,
            mtime: 1_700_000_000,
            data: b"hello\0world".to_vec(),
        },
        Frame::Symlink {
            path: "/app/link".into(),
            target: "new/é.txt".into(),
        },
        Frame::Ack,
        Frame::Results {
            outcomes: vec![
                Outcome::Done,
                Outcome::Failed("read-only file system".into()),
            ],
        },
        Frame::Fatal {
            message: "bad frame".into(),
        },
        Frame::Bye,
    ]
}

fn stream_of(frames: &[Frame]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for frame in frames {
        frame.encode(&mut bytes);
    }
    bytes
}

#[test]
fn every_frame_kind_round_trips_through_the_decoder() {
    let frames = every_kind();
    let mut decoder = Decoder::default();
    decoder.push(&stream_of(&frames));
    let mut got = Vec::new();
    while let Some(frame) = decoder.next_frame().unwrap() {
        got.push(frame);
    }
    assert_eq!(got, frames);
    assert_eq!(decoder.pending(), 0);
}

#[test]
fn frames_split_at_every_byte_are_reassembled() {
    let frames = every_kind();
    let bytes = stream_of(&frames);
    let mut decoder = Decoder::default();
    let mut got = Vec::new();
    for byte in &bytes {
        decoder.push(std::slice::from_ref(byte));
        while let Some(frame) = decoder.next_frame().unwrap() {
            got.push(frame);
        }
    }
    assert_eq!(got, frames);
}

/// A reader that hands out at most `step` bytes per read, like a pipe.
struct Trickle {
    data: Cursor<Vec<u8>>,
    step: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn the_blocking_reader_survives_short_reads_and_ends_cleanly_between_frames() {
    let frames = every_kind();
    for step in [1, 3, 7, 4096] {
        let mut reader = Trickle {
            data: Cursor::new(stream_of(&frames)),
            step,
        };
        let mut got = Vec::new();
        while let Some(frame) = read_frame(&mut reader).unwrap() {
            got.push(frame);
        }
        assert_eq!(got, frames, "reads of {step} bytes");
    }
}

#[test]
fn a_stream_cut_inside_a_frame_is_an_error_not_an_end() {
    let bytes = Frame::Delete { path: "/x".into() }.to_bytes();
    for cut in [2, bytes.len() - 1] {
        let mut reader = Cursor::new(bytes[..cut].to_vec());
        assert!(read_frame(&mut reader).is_err(), "cut at {cut}");
    }
}

#[test]
fn corrupt_frames_are_refused_with_what_is_wrong() {
    let mut decoder = Decoder::default();
    decoder.push(&[0, 0, 0, 0]);
    assert_eq!(decoder.next_frame(), Err(ProtoError::BadLength(0)));

    let too_long = u32::try_from(MAX_FRAME + 1).unwrap().to_le_bytes();
    let mut decoder = Decoder::default();
    decoder.push(&too_long);
    assert_eq!(
        decoder.next_frame(),
        Err(ProtoError::BadLength(MAX_FRAME + 1))
    );

    assert_eq!(Frame::decode(&[200]), Err(ProtoError::UnknownKind(200)));
    // A Delete whose path length runs past the frame.
    let mut body = vec![2];
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(b"/x");
    assert!(matches!(
        Frame::decode(&body),
        Err(ProtoError::Malformed { kind: 2, .. })
    ));
    // An Ack with trailing bytes.
    assert!(matches!(
        Frame::decode(&[6, 0]),
        Err(ProtoError::Malformed { kind: 6, .. })
    ));
}

#[test]
fn only_a_hello_of_this_version_opens_a_session() {
    assert_eq!(check_hello(&Frame::Hello { version: VERSION }), Ok(()));
    let err = check_hello(&Frame::Hello {
        version: VERSION + 1,
    })
    .unwrap_err();
    assert_eq!(
        err,
        ProtoError::Version {
            ours: VERSION,
            theirs: VERSION + 1
        }
    );
    assert!(err.to_string().contains("protocol 2"), "{err}");
    assert_eq!(check_hello(&Frame::Ack), Err(ProtoError::NoHello));
}

#[test]
fn a_batch_is_deletes_then_files_then_ack() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/nested")).unwrap();
    std::fs::write(dir.path().join("src/nested/a.txt"), "a").unwrap();
    std::fs::write(dir.path().join("main.py"), "print()").unwrap();
    let copies = [
        CopyFile {
            local: dir.path().join("main.py"),
            remote: "/app/main.py".into(),
        },
        CopyFile {
            local: dir.path().join("src"),
            remote: "/app/src".into(),
        },
        CopyFile {
            local: dir.path().join("vanished"),
            remote: "/app/vanished".into(),
        },
    ];
    let batch = Batch::build("c1", &["/app/old".into()], &copies).unwrap();
    let shown: Vec<String> = batch.ops.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "/app/old",
            "/app/main.py",
            "/app/src",
            "/app/src/nested",
            "/app/src/nested/a.txt"
        ]
    );
    let mut decoder = Decoder::default();
    decoder.push(&batch.bytes);
    let mut kinds = Vec::new();
    while let Some(frame) = decoder.next_frame().unwrap() {
        kinds.push(match frame {
            Frame::Delete { .. } => "delete",
            Frame::Write { .. } => "write",
            Frame::Mkdir { .. } => "mkdir",
            Frame::Ack => "ack",
            _ => "other",
        });
    }
    assert_eq!(kinds, ["delete", "write", "mkdir", "mkdir", "write", "ack"]);
    assert!(batch.oversized.is_none());
}

#[test]
fn failed_operations_are_named_and_successes_are_not() {
    let batch = Batch::build("c1", &["/a".into(), "/b".into()], &[]).unwrap();
    assert_eq!(failures(&batch, &[Outcome::Done, Outcome::Done]), None);
    let why = failures(
        &batch,
        &[
            Outcome::Done,
            Outcome::Failed("/b: permission denied".into()),
        ],
    );
    assert_eq!(why.as_deref(), Some("delete /b: /b: permission denied"));
}

/// A helper's output delivered in 5-byte pieces, interleaved with stderr text.
fn scripted(frames: &[Frame]) -> futures_util::stream::BoxStream<'static, std::io::Result<Chunk>> {
    let bytes = stream_of(frames);
    let mut chunks: Vec<std::io::Result<Chunk>> = bytes
        .chunks(5)
        .map(|c| Ok(Chunk::Data(Bytes::copy_from_slice(c))))
        .collect();
    chunks.insert(1, Ok(Chunk::Text(Bytes::from_static(b"warming up\n"))));
    futures_util::stream::iter(chunks).boxed()
}

#[tokio::test]
async fn a_session_checks_hello_sends_a_batch_and_reads_its_results() {
    let (ours, mut theirs) = tokio::io::duplex(1 << 16);
    let output = scripted(&[
        Frame::Hello { version: VERSION },
        Frame::Results {
            outcomes: vec![Outcome::Done],
        },
    ]);
    let mut session = Session::start(Box::pin(ours), output).await.unwrap();
    let batch = Batch::build("c1", &["/gone".into()], &[]).unwrap();
    assert_eq!(session.send(&batch).await.unwrap(), vec![Outcome::Done]);
    drop(session);
    let mut sent = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut theirs, &mut sent)
        .await
        .unwrap();
    assert_eq!(sent, batch.bytes);
}

#[tokio::test]
async fn a_helper_of_another_version_or_one_that_dies_does_not_open() {
    let (ours, _theirs) = tokio::io::duplex(64);
    let old = scripted(&[Frame::Hello { version: 0 }]);
    let err = Session::start(Box::pin(ours), old).await.unwrap_err();
    assert!(
        matches!(err, ChannelError::Proto(ProtoError::Version { .. })),
        "{err}"
    );

    let (ours, _theirs) = tokio::io::duplex(64);
    let died = futures_util::stream::iter(vec![Ok(Chunk::Text(Bytes::from_static(
        b"exec format error",
    )))])
    .boxed();
    let err = Session::start(Box::pin(ours), died).await.unwrap_err();
    assert_eq!(err.to_string(), "the sync stream ended: exec format error");
}

#[tokio::test]
async fn a_stream_that_ends_mid_batch_is_a_broken_channel() {
    let (ours, _theirs) = tokio::io::duplex(1 << 16);
    let mut bytes = stream_of(&[Frame::Hello { version: VERSION }]);
    let results = Frame::Results {
        outcomes: vec![Outcome::Done],
    }
    .to_bytes();
    bytes.extend_from_slice(&results[..results.len() - 1]);
    let output = futures_util::stream::iter(vec![Ok(Chunk::Data(Bytes::from(bytes)))]).boxed();
    let mut session = Session::start(Box::pin(ours), output).await.unwrap();
    let batch = Batch::build("c1", &["/gone".into()], &[]).unwrap();
    let err = session.send(&batch).await.unwrap_err();
    assert!(matches!(err, ChannelError::Closed { .. }), "{err}");
}
