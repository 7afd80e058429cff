//! The star/dash frame line of a `/debug` dump.

use nom::bytes::complete::{take_while, take_while1};
use nom::combinator::{eof, verify};
use nom::sequence::tuple;
use nom::IResult;

fn stars(input: &[u8]) -> IResult<&[u8], &[u8]> {
    verify(take_while(|c| c == b'*'), |s: &[u8]| s.len() >= 3)(input)
}

fn rule(input: &[u8]) -> IResult<&[u8], &[u8]> {
    verify(take_while1(|c| c == b' ' || c == b'-'), |s: &[u8]| {
        s.contains(&b'-')
    })(input)
}

/// True for a `/debug` header or footer: 3+ `*`, spaces and dashes (at least one dash), 3+ `*`.
///
/// Matches the 2.3 form `******---…---******` and the 2.4 form `****** ---…--- ******`.
pub fn is_frame_line(line: &[u8]) -> bool {
    tuple((stars, rule, stars, eof))(line).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_frames_match() {
        assert!(is_frame_line(b"******---------------------------******"));
        assert!(is_frame_line(
            b"******----------------------------------------------******"
        ));
        assert!(is_frame_line(
            b"****** ------------------------------------- ******"
        ));
        assert!(is_frame_line(b"*** - ***"));
    }

    #[test]
    fn near_misses_do_not() {
        assert!(!is_frame_line(b"** - ***"));
        assert!(!is_frame_line(b"***   ***"));
        assert!(!is_frame_line(b"******"));
        assert!(!is_frame_line(b"* /a: b"));
        assert!(!is_frame_line(b"***---*** x"));
        assert!(!is_frame_line(b""));
    }
}
