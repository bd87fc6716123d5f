//! Where random bytes come from. The core never picks an RNG of its own.

/// A source of random bytes for session ids.
pub trait Entropy {
    /// Fills `buf` with random bytes, or says why it could not.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), &'static str>;
}

impl<E: Entropy + ?Sized> Entropy for &mut E {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), &'static str> {
        (**self).fill(buf)
    }
}

/// A deterministic byte stream for tests (SplitMix64). **Not** for production: ids it makes
/// are predictable by anyone who knows the seed.
#[derive(Clone, Debug)]
pub struct SeededEntropy {
    state: u64,
}

impl SeededEntropy {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededEntropy { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        // SplitMix64 (Steele, Lea, Flood 2014): tiny, full-period, good enough for tests.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Entropy for SeededEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), &'static str> {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// The operating system's CSPRNG through `getrandom` (feature `std`).
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

#[cfg(feature = "std")]
impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), &'static str> {
        getrandom::fill(buf).map_err(|_| "getrandom failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_deterministic_and_varies() {
        let (mut a, mut b) = (SeededEntropy::new(1), SeededEntropy::new(1));
        let (mut x, mut y) = ([0u8; 19], [0u8; 19]);
        a.fill(&mut x).unwrap();
        b.fill(&mut y).unwrap();
        assert_eq!(x, y);
        a.fill(&mut y).unwrap();
        assert_ne!(x, y);
    }
}
