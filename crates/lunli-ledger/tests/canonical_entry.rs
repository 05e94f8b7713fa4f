//! `canonical_entry` (the writer's single pass) gives exactly the bytes, and the errors, of
//! building the [`Entry`] and asking for its canonical bytes — on random strings (quotes,
//! backslashes, control characters, any Unicode) and random nested payloads, numbers included;
//! and a payload written member by member ([`CanonicalObject`]) gives the entry its JSON value
//! would.

#![allow(clippy::unwrap_used)]

use lunli_ledger::{
    CanonicalObject, Entry, EntryContent, Hash, NewEntry, PreparedContent, Timestamp, canonical_entry,
    canonical_prepared_entry,
};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z:._-]{1,20}",
        any::<String>(),
        "[\"\\\\\u{0}-\u{1f}\u{7f}\u{e000}\u{10000}é中]{1,8}",
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        prop_oneof![Just(0.1), Just(1e21), Just(1e-7), Just(-0.0), Just(4.5), Just(1e300)]
            .prop_map(|f| Number::from_f64(f).unwrap()),
    ]
}

fn payload() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn index() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, Just((1u64 << 53) - 1), Just(1u64 << 53), any::<u64>()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_single_pass_writes_what_the_entry_would(
        index in index(),
        prev in any::<[u8; 32]>(),
        millis in 0i64..4_102_444_800_000,
        actor in text(),
        action in text(),
        subject in text(),
        payload in payload(),
    ) {
        let time = Timestamp::from_unix_millis(millis).unwrap();
        let prev = Hash::from_bytes(prev);
        let content = NewEntry { time, actor: actor.clone(), action: action.clone(), subject: subject.clone(), payload: payload.clone() };
        let expected = Entry::new(index, prev, content).and_then(|entry| entry.canonical_bytes());
        let single = canonical_entry(index, &prev, EntryContent { time, actor: &actor, action: &action, subject: &subject, payload: &payload });
        match (expected, single) {
            (Ok(expected), Ok(single)) => prop_assert_eq!(String::from_utf8(single).unwrap(), String::from_utf8(expected).unwrap()),
            (Err(expected), Err(single)) => prop_assert_eq!(single.to_string(), expected.to_string()),
            (expected, single) => prop_assert!(false, "entry: {:?}, single pass: {:?}", expected.map(String::from_utf8), single.map(String::from_utf8)),
        }
    }

    #[test]
    fn a_payload_written_member_by_member_is_its_json_value(
        index in 0u64..1000,
        prev in any::<[u8; 32]>(),
        actor in "[a-z:]{1,12}",
        id in text(),
        label in prop::option::of(text()),
        score in prop::option::of(prop_oneof![
            any::<f64>(),
            Just(f64::NAN), Just(f64::INFINITY), Just(-0.0), Just(1e21), Just(1e-7), Just(0.1),
        ]),
        codes in prop::collection::vec(text(), 0..4),
    ) {
        let time = Timestamp::from_unix_millis(1_767_225_600_000).unwrap();
        let prev = Hash::from_bytes(prev);
        let mut object = CanonicalObject::new();
        object
            .string("id", &id)
            .optional_string("label", label.as_deref())
            .strings("reasons", codes.iter().map(String::as_str))
            .optional_number("score", score);
        let prepared = object.finish().unwrap();
        // What `json!` makes of the same fields: a non-finite double becomes null.
        let value = json!({ "score": score, "reasons": codes, "label": label, "id": id });
        let expected = serde_jcs::to_vec(&value).unwrap();
        prop_assert_eq!(prepared.bytes(), expected.as_slice());
        let fields = (time, actor.as_str(), "decision", "system:s");
        let from_value = canonical_entry(index, &prev, EntryContent {
            time: fields.0, actor: fields.1, action: fields.2, subject: fields.3, payload: &value,
        }).unwrap();
        let from_prepared = canonical_prepared_entry(index, &prev, PreparedContent {
            time: fields.0, actor: fields.1, action: fields.2, subject: fields.3, payload: &prepared,
        }).unwrap();
        prop_assert_eq!(String::from_utf8(from_prepared).unwrap(), String::from_utf8(from_value).unwrap());
    }
}
