//! Command-line arguments as Python literals (or JSON, which is nearly a subset).
//!
//! Accepted: None/True/False (and JSON's null/true/false), integers of any size
//! (decimal, 0x, 0o, 0b, underscores), floats, strings and bytes with Python's
//! quotes, prefixes and escapes, tuples, lists, dicts and sets, nested freely.

use pyfleet::Value;
use pyfleet::wire::BigInt;

/// Why an argument is not a literal, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was expected.
    pub reason: String,
}

impl std::fmt::Display for LiteralError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.reason)
    }
}

/// Parse one literal; the whole text must be consumed.
pub fn parse_literal(text: &str) -> Result<Value, LiteralError> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value(0)?;
    parser.skip_space();
    if parser.pos != text.len() {
        return Err(parser.error("unexpected text after the value"));
    }
    Ok(value)
}

/// Containers nested deeper than this are refused (a Python child could not load them).
const MAX_DEPTH: usize = 200;

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> LiteralError {
        LiteralError {
            offset: self.pos,
            reason: reason.to_string(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, LiteralError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_space();
        let c = self.peek().ok_or_else(|| self.error("expected a value"))?;
        match c {
            '(' => self.sequence(')', depth).map(|(items, trailing_comma)| {
                // (x) is just x; (x,) and () are tuples.
                if items.len() == 1 && !trailing_comma {
                    items.into_iter().next().expect("one item")
                } else {
                    Value::Tuple(items)
                }
            }),
            '[' => self
                .sequence(']', depth)
                .map(|(items, _)| Value::List(items)),
            '{' => self.brace(depth),
            '"' | '\'' => self.string(false, false),
            '-' | '+' | '.' | '0'..='9' => self.number(),
            _ if c.is_ascii_alphabetic() || c == '_' => self.word(),
            _ => Err(self.error(&format!("unexpected character {c:?}"))),
        }
    }

    /// Items up to `close`; returns them and whether a comma followed the last one.
    fn sequence(&mut self, close: char, depth: usize) -> Result<(Vec<Value>, bool), LiteralError> {
        self.pos += 1;
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, trailing_comma));
            }
            items.push(self.value(depth + 1)?);
            trailing_comma = self.eat(',');
            if !trailing_comma {
                if self.eat(close) {
                    return Ok((items, false));
                }
                return Err(self.error(&format!("expected ',' or '{close}'")));
            }
        }
    }

    /// A dict `{k: v, ...}` or a set `{a, b}`.
    fn brace(&mut self, depth: usize) -> Result<Value, LiteralError> {
        self.pos += 1;
        if self.eat('}') {
            return Ok(Value::Dict(Vec::new()));
        }
        let first = self.value(depth + 1)?;
        if self.eat(':') {
            let mut pairs = vec![(first, self.value(depth + 1)?)];
            while self.eat(',') {
                if self.eat('}') {
                    return Ok(Value::Dict(pairs));
                }
                let key = self.value(depth + 1)?;
                if !self.eat(':') {
                    return Err(self.error("expected ':' in a dict"));
                }
                pairs.push((key, self.value(depth + 1)?));
            }
            return if self.eat('}') {
                Ok(Value::Dict(pairs))
            } else {
                Err(self.error("expected ',' or '}'"))
            };
        }
        let mut items = vec![first];
        while self.eat(',') {
            if self.eat('}') {
                return Ok(Value::Set(items));
            }
            items.push(self.value(depth + 1)?);
        }
        if self.eat('}') {
            Ok(Value::Set(items))
        } else {
            Err(self.error("expected ',' or '}'"))
        }
    }

    fn word(&mut self) -> Result<Value, LiteralError> {
        let word: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let lower = word.to_ascii_lowercase();
        let is_prefix = lower.len() <= 2 && lower.chars().all(|c| "rbu".contains(c));
        if is_prefix && matches!(self.rest()[word.len()..].chars().next(), Some('"' | '\'')) {
            self.pos += word.len();
            if lower.contains('u') && lower.len() > 1 {
                return Err(self.error("the u prefix cannot be combined"));
            }
            return self.string(lower.contains('r'), lower.contains('b'));
        }
        let value = match word.as_str() {
            "None" | "null" => Value::None,
            "True" | "true" => Value::Bool(true),
            "False" | "false" => Value::Bool(false),
            _ => return Err(self.error(&format!("{word:?} is not a literal"))),
        };
        self.pos += word.len();
        Ok(value)
    }

    fn number(&mut self) -> Result<Value, LiteralError> {
        let start = self.pos;
        let token: String = self
            .rest()
            .chars()
            .enumerate()
            .take_while(|(i, c)| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '.' | '_')
                    || (matches!(c, '+' | '-') && *i == 0)
            })
            .map(|(_, c)| c)
            .collect();
        // An exponent sign (1e-5) continues the token.
        let mut token = token;
        while token.ends_with(['e', 'E']) && !token.starts_with("0x") && !token.starts_with("0X") {
            let after = &self.text[start + token.len()..];
            let Some(sign @ ('+' | '-')) = after.chars().next() else {
                break;
            };
            let digits: String = after[1..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '_')
                .collect();
            token.push(sign);
            token.push_str(&digits);
        }
        self.pos = start + token.len();
        parse_number(&token).ok_or_else(|| LiteralError {
            offset: start,
            reason: format!("{token:?} is not a number"),
        })
    }

    fn string(&mut self, raw: bool, bytes: bool) -> Result<Value, LiteralError> {
        let rest = self.rest();
        let quote_char = rest.chars().next().expect("called at a quote");
        let triple: String = std::iter::repeat_n(quote_char, 3).collect();
        let quote = if rest.starts_with(&triple) {
            triple
        } else {
            quote_char.to_string()
        };
        let start = self.pos;
        self.pos += quote.len();
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(LiteralError {
                    offset: start,
                    reason: "unterminated string".into(),
                });
            };
            if self.rest().starts_with(&quote) {
                self.pos += quote.len();
                break;
            }
            self.pos += c.len_utf8();
            if c == '\\' {
                let escaped = self
                    .peek()
                    .ok_or_else(|| self.error("unterminated escape"))?;
                self.pos += escaped.len_utf8();
                if raw {
                    out.push('\\');
                    out.push(escaped);
                } else {
                    self.escape(escaped, bytes, &mut out)?;
                }
            } else if c == '\n' && quote.len() == 1 {
                return Err(self.error("newline in a single-quoted string"));
            } else if bytes && !c.is_ascii() {
                return Err(LiteralError {
                    offset: start,
                    reason: format!("bytes can only hold ASCII characters, not {c:?}"),
                });
            } else {
                out.push(c);
            }
        }
        if bytes {
            // Escapes like \xff produce chars U+0000..U+00FF standing for one byte each;
            // literal characters were checked to be ASCII above.
            return Ok(Value::Bytes(
                out.chars().map(|c| c as u8).collect::<Vec<u8>>().into(),
            ));
        }
        Ok(Value::Str(out))
    }

    fn escape(&mut self, c: char, bytes: bool, out: &mut String) -> Result<(), LiteralError> {
        let simple = match c {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '0' if !self.peek().is_some_and(|d| d.is_digit(8)) => Some('\0'),
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            '\n' => return Ok(()),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            return Ok(());
        }
        let digits = match c {
            'x' => 2,
            'u' if !bytes => 4,
            'U' if !bytes => 8,
            '0'..='7' => {
                let mut value = c.to_digit(8).expect("octal digit");
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(value).ok_or_else(|| self.error("bad octal escape"))?);
                return Ok(());
            }
            _ => {
                // Python keeps unknown escapes as written.
                out.push('\\');
                out.push(c);
                return Ok(());
            }
        };
        let hex = self
            .rest()
            .get(..digits)
            .ok_or_else(|| self.error("truncated escape"))?;
        let value =
            u32::from_str_radix(hex, 16).map_err(|_| self.error(&format!("bad \\{c} escape")))?;
        self.pos += digits;
        out.push(
            char::from_u32(value).ok_or_else(|| self.error("escape is not a valid character"))?,
        );
        Ok(())
    }
}

fn parse_number(token: &str) -> Option<Value> {
    let (negative, body) = match token.as_bytes().first()? {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    if body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let (radix, digits) = match lower.get(..2) {
        Some("0x") => (16, &lower[2..]),
        Some("0o") => (8, &lower[2..]),
        Some("0b") => (2, &lower[2..]),
        _ => (10, lower.as_str()),
    };
    if radix == 10 && digits.contains(['.', 'e']) {
        if digits == "." {
            return None;
        }
        let value: f64 = digits.parse().ok()?;
        return Some(Value::Float(if negative { -value } else { value }));
    }
    if digits.is_empty()
        || (radix == 10
            && digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().any(|b| b != b'0'))
    {
        return None;
    }
    big_from_digits(digits, radix, negative)
}

/// Any-size integer from digits in `radix`, as a [`Value`] (Int when it fits i64).
fn big_from_digits(digits: &str, radix: u32, negative: bool) -> Option<Value> {
    if let Ok(value) = i128::from_str_radix(digits, radix) {
        return Some(Value::from(if negative { -value } else { value }));
    }
    // Schoolbook base conversion into 32-bit limbs, least significant first.
    let mut limbs: Vec<u32> = vec![0];
    for c in digits.chars() {
        let digit = c.to_digit(radix)?;
        let mut carry = u64::from(digit);
        for limb in &mut limbs {
            let product = u64::from(*limb) * u64::from(radix) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    Some(Value::BigInt(BigInt::from_sign_magnitude(negative, limbs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Value {
        parse_literal(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn scalars() {
        assert_eq!(p("None"), Value::None);
        assert_eq!(p("null"), Value::None);
        assert_eq!(p("True"), Value::Bool(true));
        assert_eq!(p("false"), Value::Bool(false));
        assert_eq!(p("42"), Value::Int(42));
        assert_eq!(p("-7"), Value::Int(-7));
        assert_eq!(p("1_000"), Value::Int(1000));
        assert_eq!(p("0xff"), Value::Int(255));
        assert_eq!(p("0o17"), Value::Int(15));
        assert_eq!(p("0b101"), Value::Int(5));
        assert_eq!(p("1.5"), Value::Float(1.5));
        assert_eq!(p("-2e-3"), Value::Float(-0.002));
        assert_eq!(p("1e5"), Value::Float(100000.0));
        assert_eq!(p(".5"), Value::Float(0.5));
    }

    #[test]
    fn big_integers_keep_every_digit() {
        let v = p("123456789012345678901234567890123456789012");
        assert_eq!(v.to_string(), "123456789012345678901234567890123456789012");
        assert_eq!(
            p("-170141183460469231731687303715884105729").to_string(),
            "-170141183460469231731687303715884105729"
        );
    }

    #[test]
    fn strings_and_bytes() {
        assert_eq!(p("'a\\nb'"), Value::Str("a\nb".into()));
        assert_eq!(p("\"it's\""), Value::Str("it's".into()));
        assert_eq!(p("r'a\\nb'"), Value::Str("a\\nb".into()));
        assert_eq!(p("'\\u00e9\\x41\\101'"), Value::Str("\u{e9}AA".into()));
        assert_eq!(
            p("b'\\xff\\x00a'"),
            Value::Bytes(vec![0xff, 0, b'a'].into())
        );
        assert_eq!(p("'''tri'ple'''"), Value::Str("tri'ple".into()));
        assert_eq!(p("u'x'"), Value::Str("x".into()));
    }

    #[test]
    fn containers() {
        assert_eq!(p("()"), Value::Tuple(vec![]));
        assert_eq!(p("(1,)"), Value::Tuple(vec![Value::Int(1)]));
        assert_eq!(p("(1)"), Value::Int(1));
        assert_eq!(
            p("[1, 'a', None]"),
            Value::List(vec![Value::Int(1), Value::Str("a".into()), Value::None])
        );
        assert_eq!(p("{}"), Value::Dict(vec![]));
        assert_eq!(
            p("{'a': 1, 2: [3],}"),
            Value::Dict(vec![
                (Value::Str("a".into()), Value::Int(1)),
                (Value::Int(2), Value::List(vec![Value::Int(3)]))
            ])
        );
        assert_eq!(p("{1, 2}"), Value::Set(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(
            p(r#"{"json": [true, null, 1.5]}"#),
            Value::Dict(vec![(
                Value::Str("json".into()),
                Value::List(vec![Value::Bool(true), Value::None, Value::Float(1.5)])
            )])
        );
    }

    #[test]
    fn rejects_non_literals() {
        for bad in [
            "hello",
            "1 2",
            "[1,",
            "{'a' 1}",
            "'open",
            "0x",
            "08",
            "b'\u{e9}'",
            "1__0",
            "os.getpid()",
        ] {
            assert!(parse_literal(bad).is_err(), "{bad} should be refused");
        }
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert!(parse_literal(&deep).unwrap_err().reason.contains("deeply"));
    }
}
