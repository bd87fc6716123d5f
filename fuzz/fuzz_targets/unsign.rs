#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        // Nothing but a genuine signature may verify.
        if let Some(u) = tenure::web::cookie::unsign(s, &[b"keyboard cat"]) {
            assert_eq!(tenure::web::cookie::sign(&u.id, b"keyboard cat"), s);
        }
        let _ = tenure::web::cookie::decode_uri_component(s);
    }
});
