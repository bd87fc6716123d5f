//! The golden record files under tests/golden pin the v1 format byte for byte.

use std::fs;
use std::path::PathBuf;
use tenure::{DecodeError, Limits, Record};

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden")
        .join(sub)
}

fn files(sub: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn golden_records_round_trip_byte_for_byte() {
    let records = files("records");
    assert!(records.len() >= 4);
    for (name, bytes) in records {
        let r =
            Record::decode(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            String::from_utf8(r.encode()).unwrap(),
            String::from_utf8(bytes).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn golden_invalid_records_are_refused_by_kind() {
    let invalid = files("invalid");
    assert!(invalid.len() >= 10);
    for (name, bytes) in invalid {
        let err = Record::decode(&bytes, &Limits::default()).expect_err(&name);
        let ok = match &err {
            DecodeError::UnknownVersion(_) => name == "unknown-version",
            DecodeError::TooDeep { .. } => name == "too-deep",
            DecodeError::Malformed(_) => name.starts_with("malformed-"),
            DecodeError::TooLarge { .. } => name.starts_with("too-large"),
        };
        assert!(ok, "{name}: got {err:?}");
    }
}

#[test]
fn every_type_decodes_to_the_documented_values() {
    use tenure::Value;
    let bytes = fs::read(dir("records").join("every-type.json")).unwrap();
    let r = Record::decode(&bytes, &Limits::default()).unwrap();
    assert_eq!(r.data["big"], Value::Int(i64::MAX));
    assert_eq!(r.data["bytes"], Value::from(vec![0u8, 255, 16, 131]));
    assert_eq!(r.data["f"], Value::Float(1.0));
    assert!(matches!(r.data["f_neg_zero"], Value::Float(f) if f == 0.0 && f.is_sign_negative()));
    assert_eq!(
        r.data["str"].as_str().unwrap(),
        "line\nbreak \"quoted\" back\\slash \u{1} tab\t é 😀"
    );
    assert_eq!(r.deadline(), Some(1_700_000_060_000 + 1_800_000));
}
