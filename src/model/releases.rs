//! The release families a record shape can come from, and sets of them.

use std::fmt;

use crate::target::Target;

/// A family of CnosDB releases whose records share one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Release {
    /// 2.3.0 – 2.3.3 (plaintext passwords, old limiter names, 4-field data nodes)
    V2_3_0,
    /// 2.3.4 – 2.3.5.x
    V2_3_4,
    /// 2.4.0
    V2_4_0,
    /// 2.4.0.1
    V2_4_0_1,
    /// 2.4.1
    V2_4_1,
    /// 2.4.2
    V2_4_2,
    /// 2.4.2.1
    V2_4_2_1,
    /// 2.4.3 – 2.4.3.x and main
    V2_4_3,
}

impl Release {
    /// Every family, oldest first.
    pub const ALL: [Release; 8] = [
        Release::V2_3_0,
        Release::V2_3_4,
        Release::V2_4_0,
        Release::V2_4_0_1,
        Release::V2_4_1,
        Release::V2_4_2,
        Release::V2_4_2_1,
        Release::V2_4_3,
    ];

    /// The first and last release of the family.
    fn bounds(self) -> (&'static str, &'static str) {
        match self {
            Release::V2_3_0 => ("2.3.0", "2.3.3"),
            Release::V2_3_4 => ("2.3.4", "2.3.5"),
            Release::V2_4_0 => ("2.4.0", "2.4.0"),
            Release::V2_4_0_1 => ("2.4.0.1", "2.4.0.1"),
            Release::V2_4_1 => ("2.4.1", "2.4.1"),
            Release::V2_4_2 => ("2.4.2", "2.4.2"),
            Release::V2_4_2_1 => ("2.4.2.1", "2.4.2.1"),
            Release::V2_4_3 => ("2.4.3", "2.4.3"),
        }
    }

    /// The conversion target for a 2.4 family.
    pub fn target(self) -> Option<Target> {
        Some(match self {
            Release::V2_3_0 | Release::V2_3_4 => return None,
            Release::V2_4_0 => Target::V2_4_0,
            Release::V2_4_0_1 => Target::V2_4_0_1,
            Release::V2_4_1 => Target::V2_4_1,
            Release::V2_4_2 => Target::V2_4_2,
            Release::V2_4_2_1 => Target::V2_4_2_1,
            Release::V2_4_3 => Target::V2_4_3,
        })
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of candidate release families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Releases(u8);

impl Releases {
    /// Every family.
    pub const ANY: Releases = Releases(0xff);
    /// No family.
    pub const NONE: Releases = Releases(0);

    /// The families from `lo` to `hi`, both included.
    pub fn range(lo: Release, hi: Release) -> Releases {
        Releases(
            Release::ALL
                .iter()
                .filter(|r| **r >= lo && **r <= hi)
                .fold(0, |m, r| m | r.bit()),
        )
    }

    /// Just `r`.
    pub fn only(r: Release) -> Releases {
        Releases(r.bit())
    }

    /// The whole 2.3 line.
    pub fn v2_3() -> Releases {
        Releases::range(Release::V2_3_0, Release::V2_3_4)
    }

    /// 2.4.x from `lo` on.
    pub fn from(lo: Release) -> Releases {
        Releases::range(lo, Release::V2_4_3)
    }

    /// The families in both sets.
    pub fn and(self, other: Releases) -> Releases {
        Releases(self.0 & other.0)
    }

    /// The families in either set.
    pub fn or(self, other: Releases) -> Releases {
        Releases(self.0 | other.0)
    }

    /// True for the empty set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when nothing was learned.
    pub fn is_any(self) -> bool {
        self == Releases::ANY
    }

    /// The families in the set, oldest first.
    pub fn iter(self) -> impl Iterator<Item = Release> {
        Release::ALL
            .into_iter()
            .filter(move |r| self.0 & r.bit() != 0)
    }
}

impl fmt::Display for Releases {
    /// `2.4.3`, `2.4.2–2.4.3`, `2.3.0–2.3.3 or 2.4.0`, `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut runs: Vec<(Release, Release)> = Vec::new();
        for r in self.iter() {
            match runs.last_mut() {
                Some((_, hi)) if Release::ALL[*hi as usize + 1] == r => *hi = r,
                _ => runs.push((r, r)),
            }
        }
        if runs.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = runs
            .iter()
            .map(|(lo, hi)| {
                let (a, b) = (lo.bounds().0, hi.bounds().1);
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}–{b}")
                }
            })
            .collect();
        f.write_str(&parts.join(" or "))
    }
}

impl From<Target> for Release {
    /// The family a target release belongs to.
    fn from(t: Target) -> Release {
        match t {
            Target::V2_4_0 => Release::V2_4_0,
            Target::V2_4_0_1 => Release::V2_4_0_1,
            Target::V2_4_1 => Release::V2_4_1,
            Target::V2_4_2 => Release::V2_4_2,
            Target::V2_4_2_1 => Release::V2_4_2_1,
            Target::V2_4_3 => Release::V2_4_3,
        }
    }
}

impl fmt::Display for Release {
    /// `2.4.0`, `2.3.4–2.3.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Releases::only(*self).fmt(f)
    }
}
