//! Property test: the manager against a simple model, driven by a ManualClock.

use proptest::prelude::*;
use std::collections::BTreeMap;
use tenure::*;

const IDLE: u64 = 1_000;
const ABSOLUTE: u64 = 5_000;

#[derive(Clone, Debug)]
enum Step {
    Create,
    Advance(u64),
    Set(usize, u8, i64),
    Increment(usize, u8, i64),
    Delete(usize, u8),
    /// Two copies opened together, each changing one key, committed in order.
    Concurrent(usize, u8, i64, u8, i64),
    Destroy(usize),
    /// Open, regenerate (optionally clearing), then the old id must be gone.
    Regenerate(usize, bool),
    Sweep,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Create),
        3 => (0u64..700).prop_map(Step::Advance),
        3 => (any::<usize>(), 0u8..4, -5i64..5).prop_map(|(i, k, v)| Step::Set(i, k, v)),
        3 => (any::<usize>(), 0u8..4, -5i64..5).prop_map(|(i, k, v)| Step::Increment(i, k, v)),
        1 => (any::<usize>(), 0u8..4).prop_map(|(i, k)| Step::Delete(i, k)),
        2 => (any::<usize>(), 0u8..4, -5i64..5, 0u8..4, -5i64..5)
            .prop_map(|(i, a, x, b, y)| Step::Concurrent(i, a, x, b, y)),
        1 => any::<usize>().prop_map(Step::Destroy),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, c)| Step::Regenerate(i, c)),
        1 => Just(Step::Sweep),
    ]
}

#[derive(Clone, Debug)]
struct ModelSession {
    created: u64,
    accessed: u64,
    data: BTreeMap<String, i64>,
}

impl ModelSession {
    fn alive(&self, now: u64) -> bool {
        now < (self.accessed + IDLE).min(self.created + ABSOLUTE)
    }
}

fn key(k: u8) -> String {
    format!("k{k}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn manager_matches_model(steps in proptest::collection::vec(step(), 1..60)) {
        let clock = ManualClock::new(10_000);
        let policy = Policy::builder()
            .idle_timeout(Some(IDLE))
            .absolute_timeout(Some(ABSOLUTE))
            .touch_interval(1)
            .build()
            .unwrap();
        let mut m = SessionManager::new(MemoryStore::new(), clock.clone(), SeededEntropy::new(1), policy);
        let mut model: BTreeMap<String, ModelSession> = BTreeMap::new();
        let mut ids: Vec<String> = Vec::new();

        for st in steps {
            let now = clock.now();
            match st {
                Step::Create => {
                    let s = m.create(None, None).unwrap();
                    ids.push(s.id().to_string());
                    model.insert(s.id().to_string(), ModelSession { created: now, accessed: now, data: BTreeMap::new() });
                }
                Step::Advance(ms) => clock.advance(ms),
                Step::Set(i, k, v) | Step::Increment(i, k, v) if !ids.is_empty() => {
                    let id = ids[i % ids.len()].clone();
                    let alive = model.get(&id).is_some_and(|s| s.alive(now));
                    let opened = m.open(&id).unwrap();
                    prop_assert_eq!(opened.is_some(), alive);
                    if !alive { model.remove(&id); continue; }
                    let mut s = opened.unwrap();
                    let ms = model.get_mut(&id).unwrap();
                    ms.accessed = now;
                    if matches!(st, Step::Set(..)) {
                        s.set(&key(k), v).unwrap();
                        ms.data.insert(key(k), v);
                    } else {
                        let got = s.increment(&key(k), v).unwrap();
                        let e = ms.data.entry(key(k)).or_insert(0);
                        *e += v;
                        prop_assert_eq!(got, *e);
                    }
                    m.commit(&mut s).unwrap();
                }
                Step::Delete(i, k) if !ids.is_empty() => {
                    let id = ids[i % ids.len()].clone();
                    let alive = model.get(&id).is_some_and(|s| s.alive(now));
                    match m.open(&id).unwrap() {
                        Some(mut s) => {
                            prop_assert!(alive);
                            s.delete(&key(k)).unwrap();
                            m.commit(&mut s).unwrap();
                            let ms = model.get_mut(&id).unwrap();
                            ms.accessed = now;
                            ms.data.remove(&key(k));
                        }
                        None => { prop_assert!(!alive); model.remove(&id); }
                    }
                }
                Step::Concurrent(i, ka, a, kb, b) if !ids.is_empty() => {
                    let id = ids[i % ids.len()].clone();
                    let alive = model.get(&id).is_some_and(|s| s.alive(now));
                    let (Some(mut x), Some(mut y)) = (m.open(&id).unwrap(), m.open(&id).unwrap()) else {
                        prop_assert!(!alive);
                        model.remove(&id);
                        continue;
                    };
                    x.increment(&key(ka), a).unwrap();
                    y.set(&key(kb), b).unwrap();
                    m.commit(&mut x).unwrap();
                    m.commit(&mut y).unwrap();
                    let ms = model.get_mut(&id).unwrap();
                    ms.accessed = now;
                    *ms.data.entry(key(ka)).or_insert(0) += a;
                    ms.data.insert(key(kb), b);
                }
                Step::Destroy(i) if !ids.is_empty() => {
                    let id = ids[i % ids.len()].clone();
                    let existed = m.destroy(&id).unwrap();
                    // Dead but unswept sessions are in both the store and the model.
                    prop_assert_eq!(existed, model.remove(&id).is_some());
                }
                Step::Regenerate(i, clear) if !ids.is_empty() => {
                    let slot = i % ids.len();
                    let id = ids[slot].clone();
                    let alive = model.get(&id).is_some_and(|s| s.alive(now));
                    match m.open(&id).unwrap() {
                        Some(mut s) => {
                            prop_assert!(alive);
                            m.regenerate(&mut s, clear).unwrap();
                            prop_assert_ne!(s.id(), id.as_str());
                            prop_assert!(m.peek(&id).unwrap().is_none());
                            let mut ms = model.remove(&id).unwrap();
                            ms.accessed = now;
                            if clear {
                                ms.data.clear();
                            }
                            ids[slot] = s.id().to_string();
                            model.insert(s.id().to_string(), ms);
                        }
                        None => { prop_assert!(!alive); model.remove(&id); }
                    }
                }
                Step::Sweep => {
                    let dead = model.values().filter(|s| !s.alive(now)).count();
                    prop_assert_eq!(m.sweep().unwrap(), dead);
                    model.retain(|_, s| s.alive(now));
                }
                _ => {}
            }
            prop_assert_eq!(m.store_mut().len().unwrap(), model.len());
            // After every step, every session the model thinks alive reads back exactly.
            let now = clock.now();
            for (id, ms) in &model {
                if !ms.alive(now) { continue; }
                let s = m.peek(id).unwrap().unwrap();
                let data: BTreeMap<String, i64> = s.data().iter().map(|(k, v)| (k.to_string(), v.as_i64().unwrap())).collect();
                prop_assert_eq!(&data, &ms.data);
                prop_assert_eq!(s.record().accessed, ms.accessed);
            }
        }
        let now = clock.now();
        prop_assert_eq!(m.count().unwrap(), model.values().filter(|s| s.alive(now)).count());
    }
}
