//! Minifier for the shipped Python core.
//!
//! Drops comments, docstrings (every statement that is only a string literal), blank
//! lines and indentation width (one space per level), and records for each output
//! line the line it came from, so tracebacks can name the real source line.
//!
//! It is deliberately not a general Python minifier: it accepts the subset of Python
//! the core is written in and refuses the rest (non-ASCII text, tabs, multi-line
//! string literals that are not docstrings) with an error naming the line, so a
//! change to the core can never be shipped silently mangled. This file is also
//! compiled into build.rs, so it uses nothing outside `std`.

use std::fmt;

/// A minified module: its source and, per output line, the original line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minified {
    /// The minified source text.
    pub source: String,
    /// `original_lines[i]` is the 1-based source line of minified line `i + 1`.
    pub original_lines: Vec<u32>,
}

impl Minified {
    /// The line map as the core reads it: per minified line, the gap from the
    /// previous original line, as unsigned LEB128 varints.
    pub fn encoded_line_map(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.original_lines.len());
        let mut previous = 0u32;
        for &line in &self.original_lines {
            let mut gap = line - previous;
            previous = line;
            loop {
                let byte = (gap & 0x7f) as u8;
                gap >>= 7;
                if gap == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }
}

/// Why a source file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinifyError {
    /// 1-based line of the problem.
    pub line: u32,
    /// What is wrong and what to write instead.
    pub reason: String,
}

impl fmt::Display for MinifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for MinifyError {}

/// A physical line with comments removed, classified for the re-indenter.
struct Scanned {
    number: u32,
    indent: usize,
    /// Text without indentation, comment or trailing blanks.
    code: String,
    /// The line starts a statement (it does not continue an open bracket,
    /// a backslash continuation or a string).
    starts_statement: bool,
    /// After this line the statement goes on (open bracket, backslash, string).
    continues: bool,
    /// The line ends inside a triple-quoted string.
    ends_in_string: bool,
}

/// Minify `source`; see the module documentation for what is accepted.
pub fn minify(source: &str) -> Result<Minified, MinifyError> {
    let scanned = scan(source)?;
    let docstrings = find_docstrings(&scanned)?;
    Ok(reindent(&scanned, &docstrings))
}

fn scan(source: &str) -> Result<Vec<Scanned>, MinifyError> {
    let mut lines = Vec::new();
    let mut depth = 0usize;
    let mut open_string: Option<&'static str> = None;
    let mut continues = false;
    for (index, raw) in source.split('\n').enumerate() {
        let number = index as u32 + 1;
        if !raw.is_ascii() {
            return Err(error(number, "non-ASCII text: use \\u escapes"));
        }
        if raw.contains('\t') {
            return Err(error(number, "tab character: indent with spaces"));
        }
        let trimmed = raw.trim_start_matches(' ');
        let bytes = trimmed.as_bytes();
        let mut code = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if let Some(quote) = open_string {
                let end = find_string_end(bytes, i, quote);
                code.push_str(&trimmed[i..end.unwrap_or(bytes.len())]);
                i = match end {
                    Some(end) => {
                        open_string = None;
                        end
                    }
                    None if quote.len() == 1 && !trimmed.ends_with('\\') => {
                        return Err(error(number, "unterminated string literal"));
                    }
                    None => bytes.len(),
                };
                continue;
            }
            let c = bytes[i];
            match c {
                b'#' => break,
                b'\'' | b'"' => {
                    let quote = quote_at(bytes, i);
                    code.push_str(quote);
                    open_string = Some(quote);
                    i += quote.len();
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            code.push(c as char);
            i += 1;
        }
        let code = code.trim_end().to_string();
        let backslash = open_string.is_none() && code.ends_with('\\');
        lines.push(Scanned {
            number,
            indent: raw.len() - trimmed.len(),
            code,
            starts_statement: !continues,
            continues: depth > 0 || backslash || open_string.is_some(),
            ends_in_string: open_string.is_some(),
        });
        continues = depth > 0 || backslash || open_string.is_some();
    }
    if open_string.is_some() {
        return Err(error(
            lines.len() as u32,
            "file ends inside a string literal",
        ));
    }
    Ok(lines)
}

/// Per line: whether it belongs to a statement that is only string literals
/// (a docstring or any other no-op string). Refuses multi-line strings elsewhere,
/// whose inner indentation the minifier would otherwise change.
fn find_docstrings(lines: &[Scanned]) -> Result<Vec<bool>, MinifyError> {
    let mut result = vec![false; lines.len()];
    let mut start = 0;
    while start < lines.len() {
        let mut end = start + 1;
        while end < lines.len() && !lines[end].starts_statement {
            end += 1;
        }
        let text: Vec<&str> = lines[start..end].iter().map(|l| l.code.as_str()).collect();
        let only_strings = is_string_only(&text.join("\n"));
        if !only_strings && let Some(line) = lines[start..end].iter().find(|l| l.ends_in_string) {
            return Err(error(
                line.number,
                "multi-line string literal outside a docstring: join the lines or use \\n",
            ));
        }
        result[start..end].fill(only_strings);
        start = end;
    }
    Ok(result)
}

/// True if `text` is one or more string literals (with prefixes) and nothing else.
fn is_string_only(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut strings = 0;
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\\') {
            i += 1;
        }
        if i == bytes.len() {
            return strings > 0;
        }
        while i < bytes.len() && b"rRbBuU".contains(&bytes[i]) {
            i += 1;
        }
        if i == bytes.len() || !matches!(bytes[i], b'\'' | b'"') {
            return false;
        }
        let quote = quote_at(bytes, i);
        match find_string_end(bytes, i + quote.len(), quote) {
            Some(end) => i = end,
            None => return false,
        }
        strings += 1;
    }
}

/// The quote that opens at `i`: a triple quote or a single character.
fn quote_at(bytes: &[u8], i: usize) -> &'static str {
    let triple = bytes.len() >= i + 3 && bytes[i + 1] == bytes[i] && bytes[i + 2] == bytes[i];
    match (bytes[i], triple) {
        (b'\'', true) => "'''",
        (b'"', true) => "\"\"\"",
        (b'\'', false) => "'",
        _ => "\"",
    }
}

/// Index just past the closing `quote` at or after `start`, honouring backslashes.
fn find_string_end(bytes: &[u8], start: usize, quote: &str) -> Option<usize> {
    let q = quote.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i..].starts_with(q) {
            return Some(i + q.len());
        }
        i += 1;
    }
    None
}

fn error(line: u32, reason: &str) -> MinifyError {
    MinifyError {
        line,
        reason: reason.to_string(),
    }
}

/// Rebuild the text: one space per indentation level, docstrings and empty lines
/// gone, and `pass` where removing a docstring emptied a block.
fn reindent(lines: &[Scanned], docstrings: &[bool]) -> Minified {
    let mut out = Minified {
        source: String::new(),
        original_lines: Vec::new(),
    };
    let mut widths: Vec<usize> = vec![0];
    // The last emitted statement opened a block: (its level, its line number).
    let mut open_block: Option<(usize, u32)> = None;
    for (line, &docstring) in lines.iter().zip(docstrings) {
        if docstring || line.code.is_empty() {
            continue;
        }
        if !line.starts_statement {
            push_line(&mut out, 0, &line.code, line.number);
            continue;
        }
        while line.indent < *widths.last().unwrap_or(&0) {
            widths.pop();
        }
        if line.indent > *widths.last().unwrap_or(&0) {
            widths.push(line.indent);
        }
        let level = widths.len() - 1;
        if let Some((block_level, number)) = open_block.take()
            && level <= block_level
        {
            push_line(&mut out, block_level + 1, "pass", number);
        }
        push_line(&mut out, level, &line.code, line.number);
        if !line.continues && line.code.ends_with(':') {
            open_block = Some((level, line.number));
        }
    }
    if let Some((block_level, number)) = open_block {
        push_line(&mut out, block_level + 1, "pass", number);
    }
    out
}

fn push_line(out: &mut Minified, level: usize, code: &str, number: u32) {
    for _ in 0..level {
        out.source.push(' ');
    }
    out.source.push_str(code);
    out.source.push('\n');
    out.original_lines.push(number);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn min(src: &str) -> String {
        minify(src).unwrap().source
    }

    #[test]
    fn drops_comments_docstrings_and_blank_lines() {
        let src = "\"\"\"Module doc.\n\nMore.\n\"\"\"\nimport os  # why\n\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    # comment\n    return x\n";
        let m = minify(src).unwrap();
        assert_eq!(m.source, "import os\ndef f(x):\n return x\n");
        assert_eq!(m.original_lines, vec![5, 8, 11]);
    }

    #[test]
    fn a_block_left_empty_gets_pass() {
        assert_eq!(
            min("class A(object):\n    \"\"\"Only a docstring.\"\"\"\nx = 1\n"),
            "class A(object):\n pass\nx = 1\n"
        );
        assert_eq!(min("def f():\n    'doc'\n"), "def f():\n pass\n");
    }

    #[test]
    fn keeps_strings_with_hashes_and_quotes() {
        assert_eq!(
            min("x = '#not a comment'  # a comment\ny = \"it's\"\nz = '\\'#'\n"),
            "x = '#not a comment'\ny = \"it's\"\nz = '\\'#'\n"
        );
    }

    #[test]
    fn string_expressions_are_not_docstrings() {
        assert_eq!(min("'a' + b\nb'x'.strip()\n"), "'a' + b\nb'x'.strip()\n");
        assert_eq!(min("u'text'\nb'bytes'\nr'\\raw'\n"), "");
    }

    #[test]
    fn continuation_lines_keep_their_numbers() {
        let m = minify("x = f(1,\n      # note\n      2)\ny = 3 + \\\n    4\n").unwrap();
        assert_eq!(m.source, "x = f(1,\n2)\ny = 3 + \\\n4\n");
        assert_eq!(m.original_lines, vec![1, 3, 4, 5]);
    }

    #[test]
    fn nested_blocks_reindent_to_one_space() {
        let src = "if a:\n    if b:\n        c()\n    d()\ne()\n";
        assert_eq!(min(src), "if a:\n if b:\n  c()\n d()\ne()\n");
    }

    #[test]
    fn refuses_what_it_cannot_minify_safely() {
        assert_eq!(minify("x = '''a\nb'''\n").unwrap_err().line, 1);
        assert!(
            minify("x = 'caf\u{e9}'\n")
                .unwrap_err()
                .reason
                .contains("non-ASCII")
        );
        assert!(minify("if x:\n\ty()\n").unwrap_err().reason.contains("tab"));
        assert!(
            minify("x = 'open\n")
                .unwrap_err()
                .reason
                .contains("unterminated")
        );
    }

    #[test]
    fn line_map_is_varint_gaps() {
        let m = Minified {
            source: String::new(),
            original_lines: vec![1, 3, 300],
        };
        assert_eq!(m.encoded_line_map(), vec![1, 2, 0xa9, 0x02]);
    }
}
