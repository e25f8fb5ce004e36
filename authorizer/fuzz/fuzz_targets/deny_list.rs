#![no_main]
//! The deny list document: the index the authorizer builds and the document
//! the operators' tool edits must accept and refuse the same bodies, and a
//! document the tool writes must read back as itself.
use libfuzzer_sys::fuzz_target;
use mtls_policy::denylist::{DenyList, Document};

fuzz_target!(|data: &[u8]| {
    let index = DenyList::from_json(data);
    let doc = Document::from_json(data);
    assert_eq!(index.is_ok(), doc.is_ok(), "the two readers disagree");
    if let (Ok(index), Ok(doc)) = (index, doc) {
        assert_eq!(DenyList::from_document(&doc), index);
        let written = doc.to_json();
        assert_eq!(Document::from_json(written.as_bytes()).as_ref(), Ok(&doc));
    }
});
