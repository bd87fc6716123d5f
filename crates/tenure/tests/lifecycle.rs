//! Runs the request-lifecycle conformance vectors (tests/conformance/lifecycle, format in
//! tests/conformance/README.md) through `tenure::web`. The same files are meant for the
//! Express, ASGI and Flask adapters once they run on the core's lifecycle.
#![cfg(feature = "std")]

use serde_json::{json, Value as J};
use std::path::PathBuf;
use tenure::web::bearer;
use tenure::web::cookie::{self, CookieOptions, SameSite, Secrets};
use tenure::web::{Ending, Incoming, Outcome, SetCookieReason, Source, Transport, WebConfig, Why};

fn config(c: &J) -> (WebConfig, Vec<String>) {
    let secrets: Vec<String> = c["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let mut cookie = CookieOptions::default();
    let o = &c["cookie"];
    if let Some(n) = o["name"].as_str() {
        cookie.name = n.into();
    }
    if let Some(s) = o["secure"].as_bool() {
        cookie.secure = s;
    }
    if let Some(h) = o["http_only"].as_bool() {
        cookie.http_only = h;
    }
    if let Some(s) = o["same_site"].as_str() {
        cookie.same_site = match s {
            "strict" => Some(SameSite::Strict),
            "lax" => Some(SameSite::Lax),
            "none" => Some(SameSite::None),
            other => panic!("same_site {other:?}"),
        };
    }
    let transport = Transport::parse(c["transport"].as_str().unwrap_or("cookie")).unwrap();
    let web = WebConfig::new(Secrets::new(&secrets).unwrap(), cookie, transport)
        .unwrap()
        .with_max_age(c["max_age"].as_u64())
        .with_rolling(c["rolling"].as_bool().unwrap_or(false))
        .with_save_uninitialized(c["save_uninitialized"].as_bool().unwrap_or(false));
    (web, secrets)
}

/// A request header from the vector: a raw string, or a value signed here.
fn cookie_header(item: &J, name: &str, secrets: &[String]) -> String {
    match item {
        J::String(s) => s.clone(),
        _ => {
            let id = item[name].as_str().unwrap();
            let secret = &secrets[item["secret"].as_u64().unwrap() as usize];
            let signed = cookie::encode_uri_component(&cookie::sign(id, secret.as_bytes()));
            format!("{name}={signed}")
        }
    }
}

fn authorization(item: &J, secrets: &[String]) -> String {
    match item {
        J::String(s) => s.clone(),
        _ => {
            let id = item["bearer"].as_str().unwrap();
            let secret = &secrets[item["secret"].as_u64().unwrap() as usize];
            let scheme = item["scheme"].as_str().unwrap_or("Bearer ");
            format!("{scheme}{}", bearer::sign_token(id, secret.as_bytes()))
        }
    }
}

fn found_json(i: &Incoming) -> J {
    let why = match i.why {
        Why::Bearer => json!("bearer"),
        Why::Cookie => json!("cookie"),
        Why::NoCredentials => json!("no_credentials"),
        Why::Rejected { bearer, cookie } => {
            json!({"rejected": {"bearer": bearer, "cookie": cookie}})
        }
    };
    let mut out = json!({"id": i.id(), "had_cookie": i.had_cookie, "why": why});
    if let Some(f) = &i.found {
        out["source"] = json!(match f.source {
            Source::Bearer => "bearer",
            Source::Cookie => "cookie",
        });
        out["secret_index"] = json!(f.secret_index);
    }
    out
}

fn reason_name(r: SetCookieReason) -> &'static str {
    match r {
        SetCookieReason::Created => "created",
        SetCookieReason::Regenerated => "regenerated",
        SetCookieReason::Resigned => "resigned",
        SetCookieReason::Rolling => "rolling",
        SetCookieReason::Cleared => "cleared",
    }
}

fn run_case(web: &WebConfig, secrets: &[String], case: &J) -> Result<(), String> {
    let name = web.cookie().name.clone();
    let req = &case["request"];
    let cookies: Vec<String> = req["cookies"]
        .as_array()
        .map(|a| a.iter().map(|c| cookie_header(c, &name, secrets)).collect())
        .unwrap_or_default();
    let auth =
        (!req["authorization"].is_null()).then(|| authorization(&req["authorization"], secrets));
    let incoming = web.find(cookies.iter().map(String::as_str), auth.as_deref());
    let got = found_json(&incoming);
    if let Some(expected) = case["find"].as_object() {
        for (k, v) in expected {
            if got[k] != *v {
                return Err(format!("find.{k}: expected {v}, got {}", got[k]));
            }
        }
    }
    let Some(o) = case["outcome"].as_object() else {
        return Ok(());
    };
    let id = o.get("id").and_then(J::as_str).unwrap_or("");
    let ending = match o["ending"].as_str().unwrap() {
        "no_session" => Ending::NoSession,
        "kept" => Ending::Kept {
            id,
            refresh: o.get("refresh").and_then(J::as_bool).unwrap_or(false),
        },
        "created" => Ending::Created { id },
        "regenerated" => Ending::Regenerated { id },
        "destroyed" => Ending::Destroyed,
        "gone" => Ending::Gone,
        other => return Err(format!("unknown ending {other:?}")),
    };
    let outcome = Outcome {
        accessed: o["accessed"].as_bool().unwrap(),
        ending,
    };
    let now = case["now"].as_u64().unwrap_or(0);
    let h = web
        .respond(&incoming, &outcome, now)
        .map_err(|e| e.to_string())?;
    let exp = &case["response"];
    if json!(h.vary) != exp["vary"] {
        return Err(format!("vary: expected {}, got {:?}", exp["vary"], h.vary));
    }
    if json!(h.reason.map(reason_name)) != exp["reason"] {
        return Err(format!(
            "reason: expected {}, got {:?}",
            exp["reason"], h.reason
        ));
    }
    let want = match &exp["set_cookie"] {
        J::Null => None,
        J::Object(m) if m.contains_key("raw") => Some(m["raw"].as_str().unwrap().to_string()),
        J::Object(m) => {
            // The cookie carries the id signed with the newest secret, URI-encoded.
            let id = m["id"].as_str().unwrap();
            let signed = cookie::encode_uri_component(&cookie::sign(id, secrets[0].as_bytes()));
            Some(format!(
                "{name}={signed}; {}",
                m["attributes"].as_str().unwrap()
            ))
        }
        other => return Err(format!("bad set_cookie expectation {other}")),
    };
    if h.set_cookie != want {
        return Err(format!(
            "set_cookie: expected {want:?}, got {:?}",
            h.set_cookie
        ));
    }
    Ok(())
}

#[test]
fn every_lifecycle_vector_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/lifecycle");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "expected at least 4 vector files, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut cases = 0;
    for f in &files {
        let doc: J = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let (web, secrets) = config(&doc["config"]);
        for case in doc["cases"].as_array().unwrap() {
            cases += 1;
            if let Err(e) = run_case(&web, &secrets, case) {
                failures.push(format!("{} / {}: {e}", f.display(), case["name"]));
            }
        }
        for k in doc["keep_new"].as_array().into_iter().flatten() {
            let got = web.keep_new(k["initialized"].as_bool().unwrap());
            if json!(got) != k["expect"] {
                failures.push(format!(
                    "{}: keep_new({}) gave {got}",
                    f.display(),
                    k["initialized"]
                ));
            }
        }
    }
    assert!(cases >= 20, "only {cases} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
