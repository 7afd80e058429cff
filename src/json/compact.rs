//! Reading the compact form CnosDB writes without a second validation: the text of a [`Raw`]
//! is known to be valid JSON, so splitting it needs no more than quotes and brackets.

use super::Raw;

impl<'a> Raw<'a> {
    /// The values of the members, when the value is exactly the compact object
    /// `{"n1":v1,…,"nk":vk}` of the `names`, in that order; `None` otherwise (also for names that
    /// would need escaping). The text is known to be valid: the values are found without a
    /// second validation.
    pub fn exact_members<'n>(self, names: impl Iterator<Item = &'n str>) -> Option<Vec<Raw<'a>>> {
        let text = self.0;
        let b = text.as_bytes();
        let mut i = 1;
        let mut values = Vec::new();
        for name in names {
            let sep = if values.is_empty() { b'{' } else { b',' };
            if b.get(i - 1) != Some(&sep)
                || b.get(i) != Some(&b'"')
                || !b[i + 1..].starts_with(name.as_bytes())
                || !b[i + 1 + name.len()..].starts_with(b"\":")
                || name.contains(['"', '\\'])
            {
                return None;
            }
            let start = i + name.len() + 3;
            let end = value_end_valid(b, start)?;
            values.push(Raw(&text[start..end]));
            i = end + 1;
        }
        (i == b.len() && b.last() == Some(&b'}') && !values.is_empty()).then_some(values)
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
            i += 1;
            loop {
                let at = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
                i += at + 1;
                if b[i - 1] == b'"' {
                    break;
                }
                i += 1;
            }
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
            let item = text[from..to].trim_matches([' ', '\t', '\n', '\r']);
            if !item.is_empty() {
                items.push(Raw(item));
            }
        };
        while let Some(&c) = b.get(i) {
            i += 1;
            match c {
                b'"' => loop {
                    // Jump to the closing quote, over escaped characters.
                    let Some(at) = memchr::memchr2(b'"', b'\\', b.get(i..).unwrap_or_default())
                    else {
                        return Err("is not an array".to_string());
                    };
                    i += at + 1;
                    if b[i - 1] == b'"' {
                        break;
                    }
                    i += 1;
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

/// The end of the value starting at `i` in valid JSON text `b`; `None` when whitespace comes
/// before or after it.
fn value_end_valid(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        let c = *b.get(i)?;
        i += 1;
        match c {
            b'"' => loop {
                let at = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
                i += at + 1;
                if b[i - 1] == b'"' {
                    break;
                }
                i += 1;
            },
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
