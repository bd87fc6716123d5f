#![no_main]
//! The request lifecycle (`tenure::web`) on arbitrary header bytes: `find` and `respond`
//! never panic, and a `Set-Cookie` only ever carries an id the request created, regenerated
//! or verified from its own cookie.
use libfuzzer_sys::fuzz_target;
use tenure::web::cookie::{self, CookieOptions, Secrets};
use tenure::web::{Ending, Outcome, SetCookieReason, Source, Transport, WebConfig};

const NEW: &str = "new-secret-new-secret-new-secret-new";
const OLD: &str = "old-secret-old-secret-old-secret-old";
const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const OTHER: &str = "BBBBBBBBBBBBBBBBBBBBBB";

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let Some((&end, rest)) = rest.split_first() else {
        return;
    };
    let transport = match cfg % 3 {
        0 => Transport::Cookie,
        1 => Transport::Header,
        _ => Transport::Both,
    };
    let web = WebConfig::new(
        Secrets::new([NEW, OLD]).unwrap(),
        CookieOptions {
            secure: cfg & 0x80 != 0,
            ..CookieOptions::default()
        },
        transport,
    )
    .unwrap()
    .with_rolling(cfg & 4 != 0)
    .with_save_uninitialized(cfg & 8 != 0)
    .with_max_age((cfg & 16 != 0).then_some(u64::from(end) * 1_000_000_000));

    // Header values: the bytes split at 0xff; the last piece is the Authorization value.
    let text = String::from_utf8_lossy(rest);
    let mut pieces: Vec<String> = text.split('\u{FFFD}').map(String::from).collect();
    // Sometimes a genuine credential, so the fuzzer reaches the verified paths.
    let secret = if cfg & 32 != 0 { OLD } else { NEW };
    if cfg & 64 != 0 {
        let c = cookie::encode_uri_component(&cookie::sign(ID, secret.as_bytes()));
        pieces.insert(0, format!("x=1; sid={c}"));
    }
    let authorization = if end & 0x80 != 0 {
        Some(format!(
            "Bearer {}",
            tenure::web::bearer::sign_token(ID, secret.as_bytes())
        ))
    } else {
        pieces.pop()
    };
    let incoming = web.find(pieces.iter().map(String::as_str), authorization.as_deref());
    assert_eq!(
        incoming,
        web.find(pieces.iter().map(String::as_str), authorization.as_deref()),
        "find is deterministic"
    );
    if let Some(f) = &incoming.found {
        // A found id verified under the secret it names.
        let secrets = [NEW, OLD];
        let s = secrets[f.secret_index].as_bytes();
        match f.source {
            Source::Cookie => assert!(transport.cookies() && incoming.had_cookie),
            Source::Bearer => {
                assert!(transport.header());
                let t = tenure::web::bearer::sign_token(&f.id, s);
                assert!(tenure::web::bearer::unsign_token(&t, &[s]).is_some());
            }
        }
        assert!(cookie::unsign(&cookie::sign(&f.id, s), &[s]).is_some());
    }
    if !transport.cookies() {
        assert!(!incoming.had_cookie);
    }

    let found = incoming.id().map(String::from);
    let kept_id = if end & 0x40 != 0 {
        OTHER
    } else {
        found.as_deref().unwrap_or(OTHER)
    };
    let ending = match end % 6 {
        0 => Ending::NoSession,
        1 => Ending::Kept {
            id: kept_id,
            refresh: end & 0x20 != 0,
        },
        2 => Ending::Created { id: OTHER },
        3 => Ending::Regenerated { id: OTHER },
        4 => Ending::Destroyed,
        _ => Ending::Gone,
    };
    let outcome = Outcome {
        accessed: end & 8 != 0,
        ending,
    };
    let h = web
        .respond(&incoming, &outcome, u64::from(cfg) * 1_000)
        .expect("plausible ids build");
    assert_eq!(h.set_cookie.is_some(), h.reason.is_some());
    assert_eq!(h.vary.is_some(), outcome.accessed || h.set_cookie.is_some());
    let Some(value) = h.set_cookie else {
        return;
    };
    assert!(transport.cookies(), "header transport set a cookie");
    assert!(!value.contains(['\r', '\n', '\0']));
    if h.reason == Some(SetCookieReason::Cleared) {
        assert!(incoming.had_cookie);
        assert!(matches!(ending, Ending::Destroyed | Ending::Gone));
        assert_eq!(value, web.clear_cookie().unwrap());
        return;
    }
    // The cookie carries a signed id: which one, and was the request entitled to it?
    let signed = value
        .strip_prefix("sid=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    let unsigned = web
        .secrets()
        .unsign(&cookie::decode_uri_component(signed).unwrap())
        .expect("our own cookie verifies");
    assert_eq!(
        unsigned.secret_index, 0,
        "always signed with the newest secret"
    );
    match (h.reason.unwrap(), ending) {
        (SetCookieReason::Created, Ending::Created { id })
        | (SetCookieReason::Regenerated, Ending::Regenerated { id }) => assert_eq!(unsigned.id, id),
        (SetCookieReason::Resigned | SetCookieReason::Rolling, Ending::Kept { id, .. }) => {
            assert_eq!(unsigned.id, id);
            let f = incoming
                .found
                .as_ref()
                .expect("a kept cookie without a verified id");
            assert_eq!((f.id.as_str(), f.source), (id, Source::Cookie));
        }
        (reason, ending) => panic!("Set-Cookie for {reason:?} with {ending:?}"),
    }
});
