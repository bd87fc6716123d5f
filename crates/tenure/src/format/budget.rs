//! The cost of converting a host value (a JS or Python object) into a [`Value`], charged as
//! the bindings walk it, so a refusal costs at most the limit, never the size of the input.
//!
//! A 10-million-element array, or a small structure of shared references that expands to
//! 2^24 leaves, used to be converted in full and only then measured against the limits
//! (seconds and gigabytes before the refusal). A walk that charges a [`Budget`] stops at the
//! first excess instead: containers are charged for their length before their items are read,
//! and a shared reference is charged again each time it is reached, as the copy would be.
//!
//! The charges are a lower bound of the value's JSON length (the form the limit is defined
//! on: see [`Value::json_len`]), so the budget never refuses a value the session would have
//! taken; the exact check still happens when the value is set.
//!
//! [`Value`]: crate::Value
//! [`Value::json_len`]: crate::Value::json_len

use super::limits::Limits;
use core::fmt;

/// Which limit a walk passed, and where it stood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    /// The value's JSON form would take more than `max` bytes (`max_data_bytes`).
    Bytes {
        /// The limit.
        max: usize,
    },
    /// The value nests deeper than `max` (`max_depth`).
    Depth {
        /// The limit.
        max: usize,
    },
}

impl Exceeded {
    /// The limit's name as policies and errors spell it.
    pub fn limit(&self) -> &'static str {
        match self {
            Exceeded::Bytes { .. } => "max_data_bytes",
            Exceeded::Depth { .. } => "max_depth",
        }
    }

    /// The limit's value.
    pub fn max(&self) -> usize {
        match self {
            Exceeded::Bytes { max } | Exceeded::Depth { max } => *max,
        }
    }
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exceeded::Bytes { max } => write!(
                f,
                "larger than max_data_bytes ({max} bytes as JSON); conversion stopped there"
            ),
            Exceeded::Depth { max } => write!(f, "nesting deeper than max_depth ({max})"),
        }
    }
}

/// What is left of the limits while one host value is converted. Charge it for everything
/// the walk is about to read; the first excess is an [`Exceeded`], and the walk stops.
#[derive(Clone, Debug)]
pub struct Budget {
    left: usize,
    max_bytes: usize,
    max_depth: usize,
}

impl Budget {
    /// A budget for one value under `limits` (`max_data_bytes` and `max_depth`).
    pub fn new(limits: &Limits) -> Budget {
        Budget::with(limits.max_data_bytes, limits.max_depth)
    }

    /// A budget of `max_bytes` of JSON and `max_depth` levels of nesting.
    pub fn with(max_bytes: usize, max_depth: usize) -> Budget {
        Budget {
            left: max_bytes,
            max_bytes,
            max_depth,
        }
    }

    /// The most nesting a value may have.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Bytes still allowed.
    pub fn left(&self) -> usize {
        self.left
    }

    /// Takes `bytes` from the budget, or says the value is too large.
    pub fn charge(&mut self, bytes: usize) -> Result<(), Exceeded> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => {
                self.left = 0;
                Err(Exceeded::Bytes {
                    max: self.max_bytes,
                })
            }
        }
    }

    /// A list or map of `len` items about to be read at nesting `depth` (0 for the value
    /// itself): refused if it is too deep, or if its brackets and separators alone would
    /// pass the limit — before a single item is read.
    pub fn container(&mut self, depth: usize, len: usize) -> Result<(), Exceeded> {
        if depth >= self.max_depth {
            return Err(Exceeded::Depth {
                max: self.max_depth,
            });
        }
        // `[]` plus one comma between items (a map's colons are charged with its keys).
        self.charge(len.saturating_add(1))
    }

    /// A scalar whose JSON form takes at least `json_len` bytes.
    pub fn scalar(&mut self, json_len: usize) -> Result<(), Exceeded> {
        self.charge(json_len.max(1))
    }

    /// A string of at least `utf8_len` bytes (a value, or a map key with its colon): its
    /// quotes included. Charge it before copying the string out of the host.
    pub fn string(&mut self, utf8_len: usize) -> Result<(), Exceeded> {
        self.charge(utf8_len.saturating_add(2))
    }

    /// A map key of at least `utf8_len` bytes, with its quotes and colon.
    pub fn key(&mut self, utf8_len: usize) -> Result<(), Exceeded> {
        self.charge(utf8_len.saturating_add(3))
    }

    /// Bytes of `len` (they travel as `{"$b":"<base64>"}`).
    pub fn bytes(&mut self, len: usize) -> Result<(), Exceeded> {
        self.charge(len.div_ceil(3).saturating_mul(4).saturating_add(9))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use alloc::vec;

    #[test]
    fn a_huge_container_is_refused_before_its_items_are_read() {
        let mut b = Budget::with(100, 8);
        assert_eq!(
            b.container(0, 10_000_000),
            Err(Exceeded::Bytes { max: 100 })
        );
        let mut b = Budget::with(100, 8);
        assert!(b.container(0, 98).is_ok());
        assert_eq!(b.left(), 1);
    }

    #[test]
    fn depth_is_refused_at_the_limit() {
        let mut b = Budget::with(1000, 2);
        assert!(b.container(1, 0).is_ok());
        assert_eq!(b.container(2, 0), Err(Exceeded::Depth { max: 2 }));
        assert_eq!(Exceeded::Depth { max: 2 }.limit(), "max_depth");
    }

    #[test]
    fn repeated_charges_add_up_and_stay_exceeded() {
        let mut b = Budget::with(10, 4);
        for _ in 0..5 {
            b.scalar(2).unwrap();
        }
        assert_eq!(b.scalar(1), Err(Exceeded::Bytes { max: 10 }));
        assert_eq!(b.scalar(0), Err(Exceeded::Bytes { max: 10 }));
        assert_eq!(b.string(usize::MAX), Err(Exceeded::Bytes { max: 10 }));
    }

    /// The charges a walk makes never exceed the JSON length the limit is defined on, so a
    /// value that fits is never refused by its budget.
    #[test]
    fn charges_are_a_lower_bound_of_the_json_length() {
        fn walk(v: &Value, depth: usize, b: &mut Budget) -> Result<(), Exceeded> {
            match v {
                Value::List(items) => {
                    b.container(depth, items.len())?;
                    items.iter().try_for_each(|i| walk(i, depth + 1, b))
                }
                Value::Map(m) => {
                    b.container(depth, m.len())?;
                    for (k, i) in m.iter() {
                        b.key(k.len())?;
                        walk(i, depth + 1, b)?;
                    }
                    Ok(())
                }
                Value::Str(s) => b.string(s.len()),
                Value::Bytes(x) => b.bytes(x.len()),
                other => b.scalar(other.json_len()),
            }
        }
        let mut map = crate::DataMap::default();
        map.insert("k\"ey", Value::from("v\nal"));
        map.insert("$x", Value::Bytes(vec![1, 2, 3, 4].into()));
        map.insert("e", Value::List(vec![].into()));
        let v = Value::List(
            vec![
                Value::Null,
                Value::from(-12),
                Value::from(0.5),
                Value::Bool(false),
                Value::Map(map),
            ]
            .into(),
        );
        let exact = v.json_len();
        assert_eq!(exact, v.to_json().len());
        let mut b = Budget::with(exact, 8);
        walk(&v, 0, &mut b).unwrap();
        let mut b = Budget::with(exact / 2, 8);
        assert!(walk(&v, 0, &mut b).is_err());
    }
}
