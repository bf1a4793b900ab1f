//! Writers for CI-native output formats: GitHub workflow commands, Markdown job
//! summaries, GitLab code-quality reports and SARIF. They only format what the
//! library already computed (verdicts, diagnostics, test reports); none of them is on
//! the evaluation path.

pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod sarif;

/// Splits a `file:line:col` location (as verdicts write them) into its parts.
pub(crate) fn split_location(location: &str) -> Option<(&str, usize, usize)> {
    let (rest, col) = location.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    Some((file, line.parse().ok()?, col.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::split_location;

    #[test]
    fn locations_split_from_the_right() {
        assert_eq!(split_location("a:b.gate:3:7"), Some(("a:b.gate", 3, 7)));
        assert_eq!(split_location("x.gate"), None);
        assert_eq!(split_location("x.gate:a:1"), None);
    }
}
