use super::*;

#[test]
fn backoff_doubles_to_a_cap_and_keeps_half_of_it() {
    assert_eq!(backoff(1, 0), Duration::from_millis(12));
    assert_eq!(
        backoff(1, u64::MAX),
        Duration::from_millis(12 + u64::MAX % 13)
    );
    assert!(backoff(2, 0) < backoff(3, 0));
    assert_eq!(backoff(7, 0), backoff(30, 0), "capped");
    for j in [0, 1, 799, 800, u64::MAX] {
        assert!(backoff(30, j) <= Duration::from_millis(1600));
        assert!(backoff(30, j) >= Duration::from_millis(800));
    }
}

#[test]
fn list_uris_are_file_or_s3_and_never_a_pinned_version() {
    assert_eq!(
        ListUri::parse("file:///tmp/deny.json").unwrap(),
        ListUri::File(PathBuf::from("/tmp/deny.json"))
    );
    assert_eq!(
        ListUri::parse("s3://b/lists/deny.json")
            .unwrap()
            .to_string(),
        "s3://b/lists/deny.json"
    );
    for bad in [
        "s3://b/deny.json?versionId=3",
        "https://example.com/deny.json",
        "/tmp/deny.json",
        "s3://b",
    ] {
        assert!(matches!(ListUri::parse(bad), Err(Error::Usage(_))), "{bad}");
    }
}

fn file_list(dir: &Path) -> List {
    List::File(dir.join("deny.json"))
}

async fn add_note(list: &List, note: &str) -> Updated<bool> {
    let note = note.to_owned();
    list.update(|doc| {
        let target = mtls_policy::denylist::Target::Fingerprint([doc.entries.len() as u8; 32]);
        let mut e = mtls_policy::denylist::Entry::new(target);
        e.note = Some(note.clone());
        doc.entries.push(e);
        Ok(Edit::Write(true))
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_missing_file_starts_empty_and_each_write_raises_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let list = file_list(dir.path());
    assert_eq!(list.read().await.unwrap(), Document::empty());
    assert_eq!(add_note(&list, "one").await.sequence, 1);
    assert_eq!(add_note(&list, "two").await.sequence, 2);
    let doc = list.read().await.unwrap();
    assert_eq!((doc.sequence, doc.entries.len()), (2, 2));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn an_edit_that_keeps_the_list_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let list = file_list(dir.path());
    add_note(&list, "one").await;
    let before = std::fs::read(dir.path().join("deny.json")).unwrap();
    let kept = list.update(|_| Ok(Edit::Keep(7))).await.unwrap();
    assert_eq!(
        kept,
        Updated {
            value: 7,
            sequence: 1,
            written: false
        }
    );
    assert_eq!(std::fs::read(dir.path().join("deny.json")).unwrap(), before);
}

#[tokio::test]
async fn an_unreadable_list_is_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deny.json");
    std::fs::write(
        &path,
        b"{\"version\": 1, \"sequence\": 3, \"entries\": [{}]}",
    )
    .unwrap();
    let list = List::File(path.clone());
    let err = list.update(|_| Ok(Edit::Write(()))).await.unwrap_err();
    assert!(matches!(err, Error::DenyList { .. }), "{err}");
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"{\"version\": 1, \"sequence\": 3, \"entries\": [{}]}"
    );
}

#[tokio::test]
async fn an_edit_the_document_would_refuse_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let list = file_list(dir.path());
    let err = list
        .update(|doc| {
            let mut e = mtls_policy::denylist::Entry::new(
                mtls_policy::denylist::Target::Fingerprint([1; 32]),
            );
            e.note = Some("a\nb".into());
            doc.entries.push(e);
            Ok(Edit::Write(()))
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("would be refused"), "{err}");
    assert!(!dir.path().join("deny.json").exists());
}
