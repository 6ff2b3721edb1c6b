//! A small stable hash (64-bit FNV-1a) for cache keys and checksums: stable across
//! builds and Rust versions, unlike `std`'s `DefaultHasher`, and enough to notice
//! a changed input or a damaged cache file (it is not a defence against tampering;
//! the cache lives in the user's own directory).

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fingerprint(u64);

impl Fingerprint {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) fn new() -> Fingerprint {
        Fingerprint(Self::OFFSET_BASIS)
    }

    /// Adds `bytes` followed by a separator, so ("ab", "c") and ("a", "bc") differ.
    pub(crate) fn field(mut self, bytes: &[u8]) -> Fingerprint {
        for &byte in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
        self
    }

    /// The hash as 16 lowercase hex digits.
    pub(crate) fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_separated_and_stable() {
        let ab_c = Fingerprint::new().field(b"ab").field(b"c").hex();
        let a_bc = Fingerprint::new().field(b"a").field(b"bc").hex();
        assert_ne!(ab_c, a_bc);
        assert_eq!(ab_c.len(), 16);
        // Pinned: the value must not change between builds (it names cache files).
        assert_eq!(Fingerprint::new().hex(), "cbf29ce484222325");
        assert_eq!(Fingerprint::new().field(b"").hex(), "af64724c8602eb6e");
    }
}
