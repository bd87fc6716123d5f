#![no_main]
//! The Redis layout decoder on arbitrary field/value pairs: never a panic, and whatever
//! decodes re-encodes (`fields`) to pairs that decode to the same record; records built from
//! the input decode back from their own fields unchanged (decode ∘ fields = identity).
use libfuzzer_sys::fuzz_target;
use tenure::redis::layout::{decode, fields};
use tenure::{Flash, Limits, Record, Value};

const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

fn pairs_of(text: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = text.split('\u{0}').collect();
    parts
        .chunks(2)
        .map(|c| {
            (
                c[0].to_string(),
                c.get(1).copied().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode & 1 == 0 {
        // Arbitrary pairs.
        let pairs = pairs_of(&text);
        if let Ok(r) = decode(ID, &pairs, &limits) {
            let again = decode(ID, &fields(&r), &limits).expect("re-decode");
            assert_eq!(again, r);
        }
        return;
    }
    // A record built from the input: strings from the text, numbers from the bytes.
    let strings: Vec<&str> = text.split('\u{0}').collect();
    let num = |i: usize| -> u64 {
        let mut b = [0u8; 8];
        for (j, x) in b.iter_mut().enumerate() {
            *x = rest.get(i * 8 + j).copied().unwrap_or(0);
        }
        u64::from_le_bytes(b)
    };
    let mut r = Record::new(
        ID,
        num(0),
        (mode & 2 != 0).then(|| num(1)),
        (mode & 4 != 0).then(|| num(2)),
    );
    r.accessed = num(3);
    r.version = num(4);
    if mode & 8 != 0 {
        r.set_principal(strings.first().map(|s| s.to_string()));
    }
    if mode & 16 != 0 && strings.len() >= 2 {
        r.push_flash(Flash::new(strings[0], strings[1]));
    }
    for (i, pair) in strings.chunks(2).enumerate().skip(1).take(8) {
        let value = match (mode >> 5, pair.get(1)) {
            (0, Some(s)) => Value::from(*s),
            (1, Some(s)) => Value::from_json(s.as_bytes(), &limits).unwrap_or(Value::Null),
            (2, _) => Value::Int(num(i) as i64),
            (3, _) => Value::Float(f64::from_bits(num(i))),
            (4, Some(s)) => Value::Bytes(s.as_bytes().into()),
            (5, Some(s)) => Value::List(vec![Value::from(*s), Value::Null].into()),
            _ => Value::Bool(i % 2 == 0),
        };
        if value.validate(pair[0], &limits).is_ok() {
            r.data.insert(pair[0], value);
        }
    }
    if r.check(&limits).is_err() {
        return;
    }
    let f = fields(&r);
    let back = decode(ID, &f, &limits)
        .unwrap_or_else(|e| panic!("a valid record did not decode from its fields: {e}\n{f:?}"));
    assert_eq!(back, r);
});
