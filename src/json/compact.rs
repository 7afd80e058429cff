//! Reading the compact form CnosDB writes without a second validation: the text of a [`Raw`]
//! is known to be valid JSON, so splitting it needs no more than quotes and brackets.

use super::scan::next_special;
use super::Raw;

/// The index after the closing quote of the string whose content starts at `i`, in valid JSON
/// (no control character inside a string: the first special byte is a quote or a backslash).
#[inline(always)]
pub(super) fn string_end_valid(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = next_special(b, i);
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

impl<'a> Raw<'a> {
    /// The values of the members, when the value is exactly the compact object
    /// `{"n1":v1,…,"nk":vk}` of the `names`, in that order; `None` otherwise (also for names that
    /// would need escaping). The text is known to be valid: the values are found without a
    /// second validation.
    pub fn exact_members<'n>(self, names: impl Iterator<Item = &'n str>) -> Option<Vec<Raw<'a>>> {
        let mut values = Vec::new();
        let end = exact_members_at(self.0, 0, names, &mut values)?;
        (end == self.0.len()).then_some(values)
    }

    /// Calls `each` with every element of the value, which must be a compact array (no
    /// whitespace between its elements): `Ok(values)` for an element that is exactly the
    /// compact object of `names` (see [`Raw::exact_members`]), `Err(element)` for any other.
    /// `None` when the value is not a compact array; `each` may then have been called for the
    /// elements before the first whitespace. One pass over the text.
    pub fn compact_elements<'n, N>(
        self,
        names: impl Fn() -> N,
        mut each: impl FnMut(Result<&[Raw<'a>], Raw<'a>>),
    ) -> Option<()>
    where
        N: Iterator<Item = &'n str>,
    {
        let text = self.0;
        let b = text.as_bytes();
        if b.first() != Some(&b'[') {
            return None;
        }
        if b == b"[]" {
            return Some(());
        }
        let mut values = Vec::new();
        let mut i = 1;
        loop {
            values.clear();
            match exact_members_at(text, i, names(), &mut values) {
                Some(end) => {
                    each(Ok(&values));
                    i = end;
                }
                None => {
                    let end = value_end_valid(b, i)?;
                    each(Err(Raw(&text[i..end])));
                    i = end;
                }
            }
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b']') if i + 1 == b.len() => return Some(()),
                _ => return None,
            }
        }
    }
    /// The member values of a compact object (`{"k":v,…}`, no whitespace between its tokens),
    /// names skipped; `None` for any other text. The text is known to be valid.
    pub fn compact_values(self) -> Option<Vec<Raw<'a>>> {
        let text = self.0;
        let b = text.as_bytes();
        let mut values = Vec::new();
        if b == b"{}" {
            return Some(values);
        }
        let mut i = 1;
        while b.get(i - 1) == Some(if values.is_empty() { &b'{' } else { &b',' }) {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            i = string_end_valid(b, i + 1)?;
            if b.get(i) != Some(&b':') {
                return None;
            }
            let end = value_end_valid(b, i + 1)?;
            values.push(Raw(&text[i + 1..end]));
            i = end + 1;
        }
        (i == b.len()).then_some(values)
    }

    /// The elements of the value, which must be an array, found the way
    /// [`Raw::count_elements`] counts them (the text is known to be valid: no second
    /// validation).
    pub fn items(self) -> Result<Vec<Raw<'a>>, String> {
        let text = self.0;
        let b = text.as_bytes();
        if !b.starts_with(b"[") {
            return Err("is not an array".to_string());
        }
        let mut items = Vec::new();
        let (mut depth, mut start, mut i) = (0usize, 1usize, 1usize);
        let mut push = |from: usize, to: usize| {
            // Whitespace is ASCII: trimming it keeps the text's character boundaries.
            let item = b[from..to].trim_ascii();
            if !item.is_empty() {
                let from = from + b[from..to].len() - b[from..to].trim_ascii_start().len();
                items.push(Raw(&text[from..from + item.len()]));
            }
        };
        while let Some(&c) = b.get(i) {
            i += 1;
            match c {
                b'"' => match string_end_valid(b, i) {
                    Some(end) => i = end,
                    None => return Err("is not an array".to_string()),
                },
                b'[' | b'{' => depth += 1,
                b']' if depth == 0 => {
                    push(start, i - 1);
                    break;
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => {
                    push(start, i - 1);
                    start = i;
                }
                _ => {}
            }
        }
        Ok(items)
    }
}

/// The index after the compact object `{"n1":v1,…,"nk":vk}` of the `names` that starts at `i`
/// in valid JSON `text`, its values pushed onto `values`; `None` when no such object starts
/// there.
fn exact_members_at<'a, 'n>(
    text: &'a str,
    start: usize,
    names: impl Iterator<Item = &'n str>,
    values: &mut Vec<Raw<'a>>,
) -> Option<usize> {
    let b = text.as_bytes();
    let first = values.len();
    let mut i = start + 1;
    for name in names {
        let sep = if values.len() == first { b'{' } else { b',' };
        let n = name.as_bytes();
        if b.get(i - 1) != Some(&sep)
            || b.get(i) != Some(&b'"')
            || !b[i + 1..].starts_with(n)
            || !b[i + 1 + n.len()..].starts_with(b"\":")
            || n.iter().any(|&c| c == b'"' || c == b'\\')
        {
            return None;
        }
        let from = i + n.len() + 3;
        let end = value_end_valid(b, from)?;
        values.push(Raw(&text[from..end]));
        i = end + 1;
    }
    (values.len() > first && b.get(i - 1) == Some(&b'}')).then_some(i)
}

/// The end of the value starting at `i` in valid JSON text `b`; `None` when whitespace comes
/// before or after it.
fn value_end_valid(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        let c = *b.get(i)?;
        i += 1;
        match c {
            b'"' => i = string_end_valid(b, i)?,
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth > 0 => depth -= 1,
            b',' | b']' | b'}' if depth == 0 => return Some(i - 1),
            // Whitespace around a member's value: not the compact form.
            b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return None,
            _ => {}
        }
        if depth == 0 && matches!(b.get(i), Some(b',' | b']' | b'}') | None) {
            return Some(i);
        }
    }
}
