//! Bounds on what decoding an untrusted body may cost.

/// Default for [`DecodeLimits::max_depth`].
pub const DEFAULT_MAX_DEPTH: usize = 512;

/// Bounds applied while decoding a VALUE body from an untrusted peer.
///
/// The output budget is counted in units of one per decoded value plus one per payload
/// byte (str, bytes, int digits). A body without shared references never costs more
/// units than its own length, so the default (four units per input byte plus 64 Ki)
/// only ever stops bodies whose references (`'r'`, `'R'`) copy the same data over
/// and over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Deepest container nesting accepted; a container inside `max_depth` others fails.
    pub max_depth: usize,
    /// Output units allowed per byte of input.
    pub output_per_input_byte: usize,
    /// Output units allowed on top of the per-byte allowance.
    pub output_allowance: usize,
}

impl Default for DecodeLimits {
    fn default() -> DecodeLimits {
        DecodeLimits {
            max_depth: DEFAULT_MAX_DEPTH,
            output_per_input_byte: 4,
            output_allowance: 64 * 1024,
        }
    }
}

impl DecodeLimits {
    /// The same limits with another nesting depth.
    pub fn with_max_depth(self, max_depth: usize) -> DecodeLimits {
        DecodeLimits { max_depth, ..self }
    }

    /// The same limits with a fixed output budget, whatever the input length.
    pub fn with_fixed_output_budget(self, units: usize) -> DecodeLimits {
        DecodeLimits {
            output_per_input_byte: 0,
            output_allowance: units,
            ..self
        }
    }

    /// The output budget for a body of `input_len` bytes.
    pub fn output_budget(&self, input_len: usize) -> usize {
        input_len
            .saturating_mul(self.output_per_input_byte)
            .saturating_add(self.output_allowance)
    }
}
