//! Norm packs in the store (Art. 24): activation is stored with its ledger entry in one
//! transaction, in activation order, and a new version replaces the old in its place — on
//! SQLite and on PostgreSQL.

use lunli_test_support::backend;

use jiff::Timestamp;
use lunli_governance::Governance;
use lunli_governance::store::ActivePack;
use lunli_norms::{Catalogue, PackFile, Text};
use lunli_store::{PostgresStore, SqliteStore};

use backend::Backend;

lunli_test_support::on_every_backend!(SqliteStore, PostgresStore: activation_is_stored_in_order_with_its_ledger_entry);

fn pack(id: &str, version: &str, at: i64) -> ActivePack {
    ActivePack {
        id: id.into(),
        version: version.into(),
        digest: format!("{id}-{version}-digest"),
        extends: "lunli".into(),
        title: Text { zh: "包".into(), en: "Pack".into() },
        files: vec![PackFile { path: "pack.toml".into(), contents: format!("# {id} {version}") }],
        activated_by: "wang-fang".into(),
        activated_at: Timestamp::from_second(at).expect("valid time"),
    }
}

fn activation_is_stored_in_order_with_its_ledger_entry<S: Backend>() {
    let place = S::place();
    let store = S::open(&place);
    assert!(store.schema_version() >= 5, "packs are stored from migration V5 on");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, &store);
    assert!(gov.packs().expect("packs").is_empty());

    let size = store.ledger_size();
    gov.activate_pack(pack("bank-credit", "1.0.0", 1_800_000_000)).expect("activate");
    assert_eq!(store.ledger_size(), size + 1, "one ledger entry per activation");
    gov.activate_pack(pack("branch-rules", "0.1", 1_800_000_100)).expect("activate second");
    gov.activate_pack(pack("bank-credit", "1.1.0", 1_800_000_200)).expect("new version");
    assert_eq!(store.ledger_size(), size + 3);

    let active = gov.packs().expect("packs");
    let ids: Vec<(&str, &str)> = active.iter().map(|p| (p.id.as_str(), p.version.as_str())).collect();
    assert_eq!(ids, [("bank-credit", "1.1.0"), ("branch-rules", "0.1")], "a new version keeps its place");
    assert_eq!(active[0].files[0].contents, "# bank-credit 1.1.0", "the files are stored with the pack");

    // A reader sees exactly what was committed.
    let reread = store.read(|tx| tx.packs()).expect("read");
    assert_eq!(reread, active);
}
