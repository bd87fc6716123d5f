#![no_main]
use libfuzzer_sys::fuzz_target;
use tenure::__private::delta::Delta;
use tenure::{Limits, Record};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Delta::decode(data, &Limits::default()) {
        let base = Record::new("AAAAAAAAAAAAAAAAAAAAAA", 0, None, None);
        let _ = d.apply(&base, &Limits::default());
    }
});
