//! The two markers a child prints on its stdout during bootstrap.

use std::fmt::Write;

/// Per-child random token; 12 hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nonce(String);

impl Nonce {
    /// A fresh nonce from the kernel's random source.
    pub fn random() -> Nonce {
        let mut bytes = [0u8; 6];
        // getrandom(2) cannot fail for 6 bytes once the pool is initialised; a
        // failure would still leave a usable (less unique) nonce.
        // SAFETY: the buffer is valid for writes of its length.
        let _ = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        let mut text = String::with_capacity(12);
        for byte in bytes {
            let _ = write!(text, "{byte:02x}");
        }
        Nonce(text)
    }

    /// A fixed nonce, for tests.
    pub fn from_hex(hex: &str) -> Option<Nonce> {
        (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Nonce(hex.to_ascii_lowercase()))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The byte strings the parent waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markers {
    /// Printed by the loader before it reads the payload.
    pub ready: Vec<u8>,
    /// Printed by the core once it runs; frames follow it.
    pub running: Vec<u8>,
}

impl Markers {
    /// The markers for `nonce`.
    pub fn new(nonce: &Nonce) -> Markers {
        Markers {
            ready: format!("PFR{}\n", nonce.as_str()).into_bytes(),
            running: format!("PFC{}\n", nonce.as_str()).into_bytes(),
        }
    }
}
