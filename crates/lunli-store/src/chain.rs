//! The link an event becomes in the ledger's hash chain, whatever database stores it: the
//! [`Entry`] at a given index after a given leaf hash, its canonical bytes and their leaf hash,
//! exactly as `lunli_ledger` defines them. A backend stores the bytes and the leaf hash under the
//! index, inside the transaction that made the change, holding its write lock from reading the
//! tail to committing, so that indices stay gap-free and every entry names its predecessor.

use lunli_governance::GovernanceError;
use lunli_governance::store::{Event, Payload};
use lunli_ledger::{EntryContent, Hash, PreparedContent, Timestamp, WrittenLink, WrittenLinks};

/// An event made a ledger entry, ready to store.
pub(crate) struct Link {
    /// The entry's canonical bytes (RFC 8785), the ledger's leaf.
    pub(crate) bytes: Vec<u8>,
    /// `lunli_ledger::leaf_hash` of `bytes`: what the next entry records as its predecessor.
    pub(crate) leaf: Hash,
}

/// The entry `event` becomes at `index`, after the entry whose leaf hash is `prev`
/// ([`Hash::ZERO`] for the first), remembered in `written` so that signing the next head
/// recognises it by hash.
pub(crate) fn link(index: u64, prev: Hash, event: &Event, written: &WrittenLinks) -> Result<Link, GovernanceError> {
    let time = Timestamp::from_unix_millis(event.at.as_millisecond())
        .map_err(|e| GovernanceError::storage("the event's time cannot be recorded", e))?;
    let (actor, action, subject) = (event.actor.as_str(), event.action, event.subject.as_str());
    let bytes = match &event.payload {
        Payload::Json(payload) => {
            lunli_ledger::canonical_entry(index, &prev, EntryContent { time, actor, action, subject, payload })
        }
        Payload::Canonical(payload) => lunli_ledger::canonical_prepared_entry(
            index,
            &prev,
            PreparedContent { time, actor, action, subject, payload },
        ),
    }
    .map_err(|e| GovernanceError::storage("the event cannot be made a ledger entry", e))?;
    let leaf = lunli_ledger::leaf_hash(&bytes);
    written.record(index, WrittenLink { leaf, prev });
    Ok(Link { bytes, leaf })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunli_ledger::Entry;

    fn event(n: u64) -> Event {
        Event {
            actor: "admin".into(),
            action: "test.append",
            subject: format!("thing:{n}"),
            at: jiff::Timestamp::from_millisecond(1_767_225_600_000).expect("time"),
            payload: serde_json::json!({ "n": n }).into(),
        }
    }

    #[test]
    fn links_chain_and_verify() {
        let mut prev = Hash::ZERO;
        let mut entries = Vec::new();
        let written = WrittenLinks::default();
        for index in 0..5 {
            let link = link(index, prev, &event(index), &written).expect("link");
            assert_eq!(written.get(index), Some(WrittenLink { leaf: link.leaf, prev }));
            let entry: Entry = serde_json::from_slice(&link.bytes).expect("entry");
            assert_eq!((entry.index, entry.prev_leaf_hash), (index, prev));
            assert_eq!(entry.leaf_hash().expect("leaf"), link.leaf);
            prev = link.leaf;
            entries.push(entry);
        }
        let key = lunli_ledger::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let report = lunli_ledger::verify_entries(entries.into_iter().map(Ok::<_, ()>), &[], &key).expect("report");
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.size, 5);
    }
}
