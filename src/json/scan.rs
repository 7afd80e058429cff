//! A validating JSON scanner for the hot path: finds where values and object members end,
//! accepting exactly the texts serde_json accepts, faster than its `RawValue` skipping.
//!
//! It answers only "valid, and here are the spans" or "not sure": every rejection (bad JSON,
//! a member name with an escape, a repeated name) falls back to serde_json, which then gives
//! the answer and its error message. So the scanner may be stricter than serde_json but never
//! more lenient; `tests/json_props.rs` and the `json` fuzz target check that.

use std::borrow::Cow;

use super::Raw;

/// True for the bytes that end a string's plain run: a quote, a backslash, a control
/// character.
#[inline(always)]
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The index after the whitespace (`' '`, `\n`, `\t`, `\r`) at `i`.
#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    // Compact JSON has none: one test answers.
    while let Some(&c) = b.get(i) {
        if c > b' ' || !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// The index of the first byte at or after `i` that is a quote, a backslash or a control
/// character, sixteen bytes at a time.
#[inline(always)]
pub(super) fn next_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while let Some(chunk) = b.get(i..i + 16) {
            // SAFETY: `chunk` is 16 readable bytes; SSE2 is part of every x86_64 target.
            let flagged = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast());
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let escape = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                let low = _mm_set1_epi8(0x1f);
                let ctrl = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, escape), ctrl))
            };
            if flagged != 0 {
                return i + flagged.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while let Some(&c) = b.get(i) {
        if is_special(c) {
            break;
        }
        i += 1;
    }
    i
}

/// The index after the closing quote of the string whose content starts at `i`.
#[inline(always)]
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = next_special(b, i);
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = b.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            // A control character.
            _ => return None,
        }
    }
}

/// The index after the run of ASCII digits at `i` (`i` itself when there is none).
#[inline(always)]
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    i
}

/// The index after the number starting at `i` (`-`? int frac? exp?).
#[inline(always)]
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    i = match *b.get(i)? {
        // serde_json refuses a digit right after a leading zero (`01`), whatever follows.
        b'0' if matches!(b.get(i + 1), Some(b'0'..=b'9')) => return None,
        b'0' => i + 1,
        b'1'..=b'9' => digits_end(b, i + 1),
        _ => return None,
    };
    if b.get(i) == Some(&b'.') {
        // At least one digit after the point.
        i = Some(digits_end(b, i + 1)).filter(|&end| end > i + 1)?;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        // At least one digit in the exponent.
        i = Some(digits_end(b, i)).filter(|&end| end > i)?;
    }
    Some(i)
}

/// After `{` and whitespace: the index after `"name":` and the whitespace that follows.
#[inline(always)]
fn member_name_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, string_end(b, i + 1)?);
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(skip_ws(b, i + 1))
}

/// The index after the JSON value that starts at `i` (no whitespace before it), or `None`
/// when the text there is not one valid value. `stack` is scratch space, left as found.
pub(super) fn value_end(b: &[u8], mut i: usize, stack: &mut Vec<bool>) -> Option<usize> {
    let base = stack.len();
    loop {
        // A value starts at `i`.
        match *b.get(i)? {
            b'"' => i = string_end(b, i + 1)?,
            b'{' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    stack.push(true);
                    i = member_name_end(b, i)?;
                    continue;
                }
            }
            b'[' => {
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    stack.push(false);
                    continue;
                }
            }
            b't' => i = literal_end(b, i, b"true")?,
            b'f' => i = literal_end(b, i, b"false")?,
            b'n' => i = literal_end(b, i, b"null")?,
            _ => i = number_end(b, i)?,
        }
        // A value ended at `i`: close containers until one goes on with a comma.
        loop {
            if stack.len() == base {
                return Some(i);
            }
            let object = *stack.last()?;
            i = skip_ws(b, i);
            match (*b.get(i)?, object) {
                (b',', true) => {
                    i = member_name_end(b, skip_ws(b, i + 1))?;
                    break;
                }
                (b',', false) => {
                    i = skip_ws(b, i + 1);
                    break;
                }
                (b'}', true) | (b']', false) => {
                    stack.pop();
                    i += 1;
                }
                _ => return None,
            }
        }
    }
}

#[inline(always)]
fn literal_end(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    (b.get(i..end)? == word).then_some(end)
}

/// Walks the container `text` (whitespace around it allowed) that `open` opens and `close`
/// closes: `item` gets the index where each item starts and returns the index after it. `None`
/// when the text is not one such container (or `item` says so).
#[inline(always)]
fn items(
    text: &str,
    open: u8,
    close: u8,
    mut item: impl FnMut(usize) -> Option<usize>,
) -> Option<()> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&open) {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&close) {
        i += 1;
    } else {
        loop {
            i = skip_ws(b, item(i)?);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(&c) if c == close => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_ws(b, i) == b.len()).then_some(())
}

/// The members of the JSON object `text` (whitespace around it allowed) as `(name, value)`
/// spans, or `None` when serde_json must decide: the text is not one valid object, a name has
/// an escape, or a name repeats.
pub(super) fn object_members(text: &str) -> Option<Vec<(Cow<'_, str>, Raw<'_>)>> {
    let b = text.as_bytes();
    let mut stack = Vec::new();
    let mut members: Vec<(Cow<'_, str>, Raw<'_>)> = Vec::new();
    items(text, b'{', b'}', |i| {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let name_end = string_end(b, i + 1)?;
        let name = text.get(i + 1..name_end - 1)?;
        if name.contains('\\') || members.iter().any(|(n, _)| n == name) {
            return None;
        }
        let colon = skip_ws(b, name_end);
        if b.get(colon) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, colon + 1);
        let end = value_end(b, start, &mut stack)?;
        members.push((Cow::Borrowed(name), Raw(text.get(start..end)?)));
        Some(end)
    })?;
    Some(members)
}

/// The start and end of the JSON value at the start of `text` (after any whitespace).
fn leading_span(text: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let start = skip_ws(b, 0);
    Some((start, value_end(b, start, &mut Vec::new())?))
}

/// The span of the one JSON value in `text` (whitespace around it allowed), or `None` when
/// serde_json must decide.
pub(super) fn value(text: &str) -> Option<Raw<'_>> {
    let (start, end) = leading_span(text)?;
    if skip_ws(text.as_bytes(), end) != text.len() {
        return None;
    }
    text.get(start..end).map(Raw)
}

/// The span of the JSON value at the start of `text` (after any whitespace), or `None` when
/// serde_json must decide; what follows the value is not read.
pub(super) fn leading(text: &str) -> Option<Raw<'_>> {
    let (start, end) = leading_span(text)?;
    text.get(start..end).map(Raw)
}

/// The elements of the JSON array `text` (whitespace around it allowed) as spans, or `None`
/// when serde_json must decide.
pub(super) fn array_elements(text: &str) -> Option<Vec<Raw<'_>>> {
    let b = text.as_bytes();
    let mut stack = Vec::new();
    let mut elements = Vec::new();
    items(text, b'[', b']', |start| {
        let end = value_end(b, start, &mut stack)?;
        elements.push(Raw(text.get(start..end)?));
        Some(end)
    })?;
    Some(elements)
}
