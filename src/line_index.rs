//! Lines and columns from byte offsets and back: the one line index that policy
//! diagnostics ([`crate::diag::SourceFile`]) and document errors ([`crate::input`])
//! both number places with. Lines are split at `\n` alone; columns count characters.

use std::sync::Arc;

/// The byte offset of each line's start (the first is `0`), for [`line_col_at`].
pub(crate) fn line_starts(text: &str) -> Arc<[usize]> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The 1-based line and column (in characters) of a byte offset, with `starts` the
/// text's [`line_starts`]: O(log n) for the line. An offset inside a character counts
/// as that character's start; one past the end as the end.
pub(crate) fn line_col_at(text: &str, starts: &[usize], offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    // The last line start at or before `offset`.
    let line = starts.partition_point(|&s| s <= offset).max(1);
    let line_start = starts.get(line - 1).copied().unwrap_or(0);
    let column = text
        .get(line_start..offset)
        .map_or(0, |s| s.chars().count())
        + 1;
    (line, column)
}

/// [`line_col_at`] for a text asked once (an error's place): no index is kept.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    line_col_at(text, &line_starts(text), offset)
}

/// The byte offset of a 1-based line and a 0-based column, counted in characters
/// when `chars` is true and in bytes otherwise; clamped to the text. The inverse of
/// [`line_col`], for parsers that report places as lines and columns.
pub(crate) fn offset_of(text: &str, line: usize, column: usize, chars: bool) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text.get(start..).and_then(|rest| rest.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = text.get(start..).unwrap_or_default();
    let within = if chars {
        rest.char_indices()
            .nth(column)
            .map_or(rest.len(), |(i, _)| i)
    } else {
        column.min(rest.len())
    };
    floor_char_boundary(text, start + within)
}

/// `offset`, clamped to the text and moved back to a character boundary.
pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_both_ways() {
        let text = "ab\néé\n\nx";
        let starts = line_starts(text);
        assert_eq!(&*starts, &[0, 3, 8, 9]);
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (1, 3));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 5), (2, 2));
        assert_eq!(line_col(text, 6), (2, 2)); // inside `é`: its start
        assert_eq!(line_col(text, 8), (3, 1));
        assert_eq!(line_col(text, 99), (4, 2));
        assert_eq!(offset_of(text, 2, 1, true), 5);
        assert_eq!(offset_of(text, 2, 1, false), 3); // byte 1 of `é`: its start
        assert_eq!(offset_of(text, 9, 0, true), text.len());
        for offset in 0..=text.len() {
            if text.is_char_boundary(offset) {
                let (line, column) = line_col(text, offset);
                assert_eq!(offset_of(text, line, column - 1, true), offset);
            }
        }
    }
}
