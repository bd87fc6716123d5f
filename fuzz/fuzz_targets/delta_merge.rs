#![no_main]
//! The delta merge: a decoded `Delta` applied to a record gives what a simple model of each
//! operation gives (or fails exactly where the model fails, leaving the record alone), and
//! it re-encodes to itself.
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use tenure::__private::delta::{Delta, Op};
use tenure::{Flash, Limits, Record, Value};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    // The first byte picks the base record's contents; the rest is the delta's JSON.
    let Some((&base_kind, bytes)) = data.split_first() else {
        return;
    };
    let Ok(d) = Delta::decode(bytes, &limits) else {
        return;
    };
    assert_eq!(
        Delta::decode(&d.encode(), &limits).as_ref(),
        Ok(&d),
        "re-decode"
    );

    let mut base = Record::new("AAAAAAAAAAAAAAAAAAAAAA", 0, Some(1_000), None);
    if base_kind & 1 != 0 {
        base.data
            .insert("a", Value::Int(i64::MAX - i64::from(base_kind >> 4)));
    }
    if base_kind & 2 != 0 {
        base.data.insert("b", Value::from("text"));
    }
    if base_kind & 4 != 0 {
        base.push_flash(Flash::new("info", "hi"));
        base.push_flash(Flash::new("info", "hi"));
    }
    if base_kind & 8 != 0 {
        base.set_principal(Some("ann".into()));
    }
    let before = base.clone();

    // The model.
    let mut data: BTreeMap<String, Value> = base
        .data
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut flash: Vec<Flash> = base.flash().to_vec();
    let mut principal = base.principal().map(String::from);
    let mut idle = base.idle();
    let mut ok = true;
    for op in d.ops() {
        match op {
            Op::Set { key, value } => {
                data.insert(key.to_string(), value.clone());
            }
            Op::Delete { key } => {
                data.remove(key.as_str());
            }
            Op::Clear => data.clear(),
            Op::Increment { key, by } => {
                let base = match data.get(key.as_str()) {
                    None => Some(0),
                    Some(Value::Int(i)) => Some(*i),
                    Some(_) => None,
                };
                match base.and_then(|b| b.checked_add(*by)) {
                    Some(n) => {
                        data.insert(key.to_string(), Value::Int(n));
                    }
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            Op::Flash { category, message } => {
                flash.push(Flash::new(category.clone(), message.clone()))
            }
            Op::TakeFlashes { taken } => {
                for t in taken {
                    if let Some(i) = flash.iter().position(|f| f == t) {
                        flash.remove(i);
                    }
                }
            }
            Op::SetPrincipal { principal: p } => principal = p.clone(),
            Op::SetIdle { idle: i } => idle = i.map(|t| t.max(1)),
        }
    }
    match d.apply(&base, &limits) {
        Ok(next) => {
            assert!(ok, "apply succeeded where the model fails");
            let got: BTreeMap<String, Value> = next
                .data
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            assert_eq!(got, data);
            assert_eq!(next.flash(), &flash[..]);
            assert_eq!(next.principal(), principal.as_deref());
            assert_eq!(next.idle(), idle);
            assert_eq!(
                (next.id.as_str(), next.created, next.version),
                ("AAAAAAAAAAAAAAAAAAAAAA", 0, 0)
            );
            assert!(next.payload_len() <= limits.max_data_bytes);
            // What applies encodes and decodes back to itself.
            let again = Record::decode(&next.encode(), &limits).expect("merged record decodes");
            assert_eq!(again, next);
        }
        Err(e) => {
            let code = e.code();
            assert!(
                !ok || code == tenure::ErrorCode::LimitExceeded,
                "apply failed where the model succeeds: {e}"
            );
        }
    }
    assert_eq!(base, before, "apply changed its input");
});
