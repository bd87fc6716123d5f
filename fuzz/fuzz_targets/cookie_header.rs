#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let pairs = tenure::web::cookie::parse_cookie_header(s);
        assert!(pairs.len() <= tenure::web::cookie::MAX_COOKIE_PAIRS);
        let _ = tenure::web::cookie::find_session_id(s, "sid", &[b"secret", b"old"]);
        let _ = tenure::web::bearer::parse_bearer(s);
    }
});
