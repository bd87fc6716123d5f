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

/// The operating system's CSPRNG read 512 bytes at a time (feature `std`): one system call
/// per 32 session ids instead of one each, which is most of what minting an id costs on a
/// machine where system calls are slow. Safe across `fork`: a process that finds itself with
/// a pid other than the one that filled the buffer throws the buffer away, so parent and
/// child never hand out the same bytes. Unread bytes are wiped when they are used or dropped.
#[cfg(feature = "std")]
#[derive(Clone)]
pub struct BufferedOsEntropy {
    buf: [u8; 512],
    pos: usize,
    pid: u32,
}

#[cfg(feature = "std")]
impl Default for BufferedOsEntropy {
    fn default() -> Self {
        BufferedOsEntropy::new()
    }
}

#[cfg(feature = "std")]
impl BufferedOsEntropy {
    /// An empty buffer (the first id fills it).
    pub fn new() -> Self {
        BufferedOsEntropy {
            buf: [0; 512],
            pos: 512,
            pid: 0,
        }
    }
}

#[cfg(feature = "std")]
impl core::fmt::Debug for BufferedOsEntropy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BufferedOsEntropy")
    }
}

#[cfg(feature = "std")]
impl Entropy for BufferedOsEntropy {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), &'static str> {
        let pid = std::process::id();
        if pid != self.pid {
            // A fresh buffer, or a forked child holding its parent's: never reuse it.
            self.buf.fill(0);
            self.pos = self.buf.len();
            self.pid = pid;
        }
        if out.len() > self.buf.len() {
            return getrandom::fill(out).map_err(|_| "getrandom failed");
        }
        if self.buf.len() - self.pos < out.len() {
            getrandom::fill(&mut self.buf).map_err(|_| "getrandom failed")?;
            self.pos = 0;
        }
        let end = self.pos + out.len();
        out.copy_from_slice(&self.buf[self.pos..end]);
        // Handed-out bytes don't stay behind in memory.
        self.buf[self.pos..end].fill(0);
        self.pos = end;
        Ok(())
    }
}

#[cfg(feature = "std")]
impl Drop for BufferedOsEntropy {
    fn drop(&mut self) {
        self.buf.fill(0);
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

    #[cfg(feature = "std")]
    #[test]
    fn buffered_os_entropy_hands_out_each_byte_once() {
        let mut e = BufferedOsEntropy::new();
        let mut seen = std::collections::HashSet::new();
        // 100 ids cross several refills; all distinct, none all-zero.
        for _ in 0..100 {
            let mut id = [0u8; 16];
            e.fill(&mut id).unwrap();
            assert_ne!(id, [0; 16]);
            assert!(seen.insert(id));
        }
        // A request larger than the buffer goes straight to the OS.
        let mut big = [0u8; 600];
        e.fill(&mut big).unwrap();
        assert!(big.iter().any(|&b| b != 0));
        // A different pid (a forked child) discards what is buffered.
        let mut before = [0u8; 16];
        e.fill(&mut before).unwrap();
        let rest = e.buf[e.pos..].to_vec();
        e.pid ^= 1;
        let mut after = [0u8; 16];
        e.fill(&mut after).unwrap();
        assert_ne!(
            &after[..],
            &rest[..16],
            "the child did not reuse the parent's bytes"
        );
        assert_eq!(e.pid, std::process::id());
    }
}
