//! Integers beyond `i64`, as Python has them.
//!
//! Only what the codec and its users need: construction, conversion to and from the
//! Rust integer types, the marshal digit form and decimal text. No arithmetic.

use std::cmp::Ordering;
use std::fmt;

/// Bits per marshal long digit (CPython's `PyLong_MARSHAL_SHIFT`).
pub(crate) const MARSHAL_DIGIT_BITS: u32 = 15;

/// Python's limit for int/str conversion (`sys.get_int_max_str_digits()`), in bits,
/// rounded down; above it error texts show the size instead of the digits so that a
/// hostile peer cannot make us spend quadratic time formatting.
const DESCRIBE_MAX_BITS: u64 = 14_000;

/// An arbitrary-precision integer: a sign and a magnitude.
///
/// Always canonical: the magnitude has no leading (most significant) zero limbs and
/// zero is never negative, so derived equality is numeric equality.
/// [`crate::wire::Value`] uses `Value::Int` for every value that fits an `i64` and
/// `Value::BigInt` only beyond that.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct BigInt {
    negative: bool,
    /// Little-endian base-2^32 limbs.
    magnitude: Vec<u32>,
}

/// A [`BigInt`] that does not fit the requested Rust integer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("integer out of range for {target}")]
pub struct BigIntRangeError {
    /// The Rust type that was asked for.
    pub target: &'static str,
}

impl BigInt {
    /// Zero.
    pub fn zero() -> BigInt {
        BigInt::default()
    }

    /// Builds a value from a sign and little-endian base-2^32 limbs, normalising
    /// leading zero limbs and negative zero away.
    pub fn from_sign_magnitude(negative: bool, mut magnitude: Vec<u32>) -> BigInt {
        while magnitude.last() == Some(&0) {
            magnitude.pop();
        }
        BigInt {
            negative: negative && !magnitude.is_empty(),
            magnitude,
        }
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.magnitude.is_empty()
    }

    /// The absolute value as little-endian base-2^32 limbs (empty for zero).
    pub fn magnitude(&self) -> &[u32] {
        &self.magnitude
    }

    /// Number of bits in the absolute value (0 for zero).
    pub fn bit_len(&self) -> u64 {
        match self.magnitude.last() {
            None => 0,
            Some(&top) => {
                (self.magnitude.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros())
            }
        }
    }

    /// The nearest `f64` (infinite when the value is beyond `f64::MAX`).
    pub fn to_f64(&self) -> f64 {
        let bits = self.bit_len();
        let magnitude = if bits <= 64 {
            self.low_u64() as f64
        } else if bits > 1100 {
            f64::INFINITY
        } else {
            // The top 64 bits, with a sticky bit for everything below them, round to
            // 53 bits exactly as the whole value would.
            let shift = bits - 64;
            let mut top = 0u64;
            for bit in 0..64 {
                if self.bit(shift + bit) {
                    top |= 1 << bit;
                }
            }
            if (0..shift).any(|bit| self.bit(bit)) {
                top |= 1;
            }
            (top as f64) * 2f64.powi(shift as i32)
        };
        if self.negative { -magnitude } else { magnitude }
    }

    /// Decimal text, or "an int of N bits" for values so large that formatting them
    /// would take noticeable time; used in error messages about untrusted input.
    pub(crate) fn describe(&self) -> String {
        if self.bit_len() <= DESCRIBE_MAX_BITS {
            self.to_string()
        } else {
            format!("an int of {} bits", self.bit_len())
        }
    }

    fn bit(&self, index: u64) -> bool {
        let limb = (index / 32) as usize;
        self.magnitude
            .get(limb)
            .is_some_and(|&value| value >> (index % 32) & 1 == 1)
    }

    fn low_u64(&self) -> u64 {
        let limb = |i: usize| u64::from(self.magnitude.get(i).copied().unwrap_or(0));
        limb(0) | limb(1) << 32
    }

    fn low_u128(&self) -> u128 {
        let limb = |i: usize| u128::from(self.magnitude.get(i).copied().unwrap_or(0));
        limb(0) | limb(1) << 32 | limb(2) << 64 | limb(3) << 96
    }

    /// Builds a value from marshal's little-endian 15-bit digits (each already known
    /// to be below 2^15). Leading zero digits are accepted and normalised away.
    pub(crate) fn from_marshal_digits(negative: bool, digits: impl Iterator<Item = u16>) -> BigInt {
        let (lower, _) = digits.size_hint();
        let mut magnitude = Vec::with_capacity((lower * 15).div_ceil(32));
        let mut acc = 0u64;
        let mut acc_bits = 0u32;
        for digit in digits {
            acc |= u64::from(digit) << acc_bits;
            acc_bits += MARSHAL_DIGIT_BITS;
            if acc_bits >= 32 {
                magnitude.push(acc as u32);
                acc >>= 32;
                acc_bits -= 32;
            }
        }
        if acc_bits > 0 {
            magnitude.push(acc as u32);
        }
        BigInt::from_sign_magnitude(negative, magnitude)
    }

    /// Number of 15-bit digits marshal needs for the magnitude.
    pub(crate) fn marshal_digit_count(&self) -> u64 {
        self.bit_len().div_ceil(u64::from(MARSHAL_DIGIT_BITS))
    }

    /// Calls `emit` with each 15-bit marshal digit, least significant first.
    pub(crate) fn for_each_marshal_digit(&self, mut emit: impl FnMut(u16)) {
        let mut acc = 0u64;
        let mut acc_bits = 0u32;
        let mut remaining = self.marshal_digit_count();
        let mut limbs = self.magnitude.iter();
        while remaining > 0 {
            if acc_bits < MARSHAL_DIGIT_BITS {
                if let Some(&limb) = limbs.next() {
                    acc |= u64::from(limb) << acc_bits;
                    acc_bits += 32;
                } else {
                    // Only the final, partial digit is left; the missing high bits are 0.
                    acc_bits = MARSHAL_DIGIT_BITS;
                }
            }
            emit((acc & 0x7fff) as u16);
            acc >>= MARSHAL_DIGIT_BITS;
            acc_bits -= MARSHAL_DIGIT_BITS;
            remaining -= 1;
        }
    }
}

impl From<u128> for BigInt {
    fn from(value: u128) -> BigInt {
        let limbs = (0..4).map(|i| (value >> (32 * i)) as u32).collect();
        BigInt::from_sign_magnitude(false, limbs)
    }
}

impl From<i128> for BigInt {
    fn from(value: i128) -> BigInt {
        let mut big = BigInt::from(value.unsigned_abs());
        big.negative = value < 0;
        big
    }
}

impl From<u64> for BigInt {
    fn from(value: u64) -> BigInt {
        BigInt::from(u128::from(value))
    }
}

impl From<i64> for BigInt {
    fn from(value: i64) -> BigInt {
        BigInt::from(i128::from(value))
    }
}

impl TryFrom<&BigInt> for u128 {
    type Error = BigIntRangeError;

    fn try_from(value: &BigInt) -> Result<u128, BigIntRangeError> {
        if value.negative || value.magnitude.len() > 4 {
            return Err(BigIntRangeError { target: "u128" });
        }
        Ok(value.low_u128())
    }
}

impl TryFrom<&BigInt> for i128 {
    type Error = BigIntRangeError;

    fn try_from(value: &BigInt) -> Result<i128, BigIntRangeError> {
        let error = BigIntRangeError { target: "i128" };
        if value.magnitude.len() > 4 {
            return Err(error);
        }
        let magnitude = value.low_u128();
        if value.negative {
            if magnitude > i128::MIN.unsigned_abs() {
                return Err(error);
            }
            Ok(0i128.wrapping_sub_unsigned(magnitude))
        } else {
            i128::try_from(magnitude).map_err(|_| error)
        }
    }
}

impl TryFrom<&BigInt> for u64 {
    type Error = BigIntRangeError;

    fn try_from(value: &BigInt) -> Result<u64, BigIntRangeError> {
        let error = BigIntRangeError { target: "u64" };
        let wide = u128::try_from(value).map_err(|_| error)?;
        u64::try_from(wide).map_err(|_| error)
    }
}

impl TryFrom<&BigInt> for i64 {
    type Error = BigIntRangeError;

    fn try_from(value: &BigInt) -> Result<i64, BigIntRangeError> {
        let error = BigIntRangeError { target: "i64" };
        let wide = i128::try_from(value).map_err(|_| error)?;
        i64::try_from(wide).map_err(|_| error)
    }
}

impl Ord for BigInt {
    fn cmp(&self, other: &BigInt) -> Ordering {
        let magnitude_order = || {
            self.magnitude
                .len()
                .cmp(&other.magnitude.len())
                .then_with(|| {
                    self.magnitude
                        .iter()
                        .rev()
                        .cmp(other.magnitude.iter().rev())
                })
        };
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude_order(),
            (true, true) => magnitude_order().reverse(),
        }
    }
}

impl PartialOrd for BigInt {
    fn partial_cmp(&self, other: &BigInt) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Decimal text. Quadratic in the number of digits, like CPython's own conversion.
impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CHUNK: u64 = 1_000_000_000;
        if self.is_zero() {
            return f.pad_integral(true, "", "0");
        }
        let mut limbs = self.magnitude.clone();
        let mut chunks = Vec::with_capacity(limbs.len() * 32 / 29 + 1);
        while !limbs.is_empty() {
            let mut remainder = 0u64;
            for limb in limbs.iter_mut().rev() {
                let current = remainder << 32 | u64::from(*limb);
                *limb = (current / CHUNK) as u32;
                remainder = current % CHUNK;
            }
            chunks.push(remainder as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut text = String::with_capacity(chunks.len() * 9);
        let mut chunks = chunks.iter().rev();
        if let Some(first) = chunks.next() {
            text.push_str(&first.to_string());
        }
        for chunk in chunks {
            text.push_str(&format!("{chunk:09}"));
        }
        f.pad_integral(!self.negative, "", &text)
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInt({})", self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pow2(bits: u32) -> BigInt {
        let mut limbs = vec![0u32; bits as usize / 32 + 1];
        limbs[bits as usize / 32] = 1 << (bits % 32);
        BigInt::from_sign_magnitude(false, limbs)
    }

    #[test]
    fn canonical_form() {
        assert_eq!(
            BigInt::from_sign_magnitude(true, vec![0, 0]),
            BigInt::zero()
        );
        assert!(!BigInt::from(0i64).is_negative());
        assert_eq!(
            BigInt::from_sign_magnitude(false, vec![5, 0, 0]).magnitude(),
            &[5]
        );
        assert_eq!(BigInt::from(-1i64).magnitude(), &[1]);
    }

    #[test]
    fn decimal_text() {
        assert_eq!(BigInt::zero().to_string(), "0");
        assert_eq!(BigInt::from(i64::MIN).to_string(), "-9223372036854775808");
        assert_eq!(BigInt::from(u128::MAX).to_string(), u128::MAX.to_string());
        assert_eq!(BigInt::from(i128::MIN).to_string(), i128::MIN.to_string());
        assert_eq!(
            pow2(200).to_string(),
            "1606938044258990275541962092341162602522202993782792835301376"
        );
        assert_eq!(BigInt::from(1_000_000_000u64).to_string(), "1000000000");
        assert_eq!(format!("{:>6}", BigInt::from(-12i64)), "   -12");
    }

    #[test]
    fn conversions_at_the_edges() {
        for value in [
            0i128,
            1,
            -1,
            i128::from(i64::MAX),
            i128::from(i64::MIN),
            i128::MAX,
            i128::MIN,
        ] {
            assert_eq!(i128::try_from(&BigInt::from(value)), Ok(value));
        }
        assert_eq!(u128::try_from(&BigInt::from(u128::MAX)), Ok(u128::MAX));
        assert!(u128::try_from(&BigInt::from(-1i64)).is_err());
        assert!(i128::try_from(&BigInt::from(u128::MAX)).is_err());
        assert!(i128::try_from(&BigInt::from(i128::MAX as u128 + 1)).is_err());
        assert!(i128::try_from(&pow2(200)).is_err());
        assert_eq!(i64::try_from(&BigInt::from(i64::MIN)), Ok(i64::MIN));
        assert_eq!(
            i64::try_from(&BigInt::from(i128::from(i64::MIN) - 1)),
            Err(BigIntRangeError { target: "i64" })
        );
        assert_eq!(u64::try_from(&BigInt::from(u64::MAX)), Ok(u64::MAX));
        assert!(u64::try_from(&BigInt::from(u128::from(u64::MAX) + 1)).is_err());
        assert!(u64::try_from(&BigInt::from(-5i64)).is_err());
    }

    #[test]
    fn marshal_digits_round_trip() {
        for value in [
            BigInt::zero(),
            BigInt::from(1i64),
            BigInt::from(0x7fffi64),
            BigInt::from(0x8000i64),
            BigInt::from(i64::MIN),
            BigInt::from(u128::MAX),
            pow2(200),
            BigInt::from_sign_magnitude(true, vec![u32::MAX; 7]),
        ] {
            let mut digits = Vec::new();
            value.for_each_marshal_digit(|d| digits.push(d));
            assert_eq!(digits.len() as u64, value.marshal_digit_count());
            assert!(digits.iter().all(|&d| d < 0x8000));
            assert_ne!(
                digits.last(),
                Some(&0),
                "top digit must be non-zero for {value}"
            );
            let back = BigInt::from_marshal_digits(value.is_negative(), digits.into_iter());
            assert_eq!(back, value);
        }
        // 2^63 is 1 << (4 * 15 + 3): five digits, the last one 8.
        let mut digits = Vec::new();
        BigInt::from(1u128 << 63).for_each_marshal_digit(|d| digits.push(d));
        assert_eq!(digits, [0, 0, 0, 0, 8]);
    }

    #[test]
    fn leading_zero_digits_are_normalised() {
        let value = BigInt::from_marshal_digits(true, [5u16, 0, 0].into_iter());
        assert_eq!(value, BigInt::from(-5i64));
        assert!(BigInt::from_marshal_digits(true, [0u16].into_iter()).is_zero());
    }

    #[test]
    fn ordering_and_floats() {
        assert!(BigInt::from(-3i64) < BigInt::from(-2i64));
        assert!(BigInt::from(-3i64) < BigInt::zero());
        assert!(pow2(200) > BigInt::from(u128::MAX));
        assert_eq!(pow2(200).to_f64(), 2f64.powi(200));
        assert_eq!(BigInt::from(-(1i128 << 100)).to_f64(), -(2f64.powi(100)));
        assert_eq!(BigInt::from(u64::MAX).to_f64(), u64::MAX as f64);
        assert_eq!(pow2(2000).to_f64(), f64::INFINITY);
        // Rounds to nearest: 2^64 + 2^11 + 1 is above the halfway point to 2^64 + 2^12.
        let value = BigInt::from((1u128 << 64) + (1 << 11) + 1);
        assert_eq!(value.to_f64(), ((1u128 << 64) + (1 << 12)) as f64);
    }

    #[test]
    fn describe_is_bounded() {
        assert_eq!(pow2(64).describe(), "18446744073709551616");
        assert_eq!(pow2(20_000).describe(), "an int of 20001 bits");
    }
}
