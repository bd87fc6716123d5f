#![no_main]
use libfuzzer_sys::fuzz_target;
use tenure::{Limits, Record};

fuzz_target!(|data: &[u8]| {
    // Whatever decodes must re-encode to something that decodes to the same record.
    if let Ok(r) = Record::decode(data, &Limits::default()) {
        let again = Record::decode(&r.encode(), &Limits::default()).expect("re-decode");
        assert_eq!(again, r);
    }
});
