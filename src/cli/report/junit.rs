//! JUnit XML for `changegate test`, written by `quick-junit`: one `<testsuite>` per
//! test file, one `<testcase>` per case with its `time`, a `<failure>` per failing
//! case. A file that cannot run is one failing case named `(load)`.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::cli::testing::FileReport;

/// Text as XML 1.0 can hold it, visibly: a character XML forbids (most C0 controls,
/// U+FFFE, U+FFFF) becomes `\u{…}` rather than vanishing, so two names that differ
/// only in one stay different. (`quick-junit` would drop them, and would read an
/// escape character as the start of a terminal colour sequence.)
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// The JUnit report of these test files.
pub(crate) fn tests(reports: &[FileReport]) -> String {
    let mut report = Report::new("changegate");
    for r in reports {
        let file = text(&r.file);
        let mut suite = TestSuite::new(file.as_str());
        if let Some(e) = &r.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message("cannot run").set_description(text(e));
            let mut case = TestCase::new("(load)", status);
            case.set_classname(file.as_str());
            suite.add_test_case(case);
        }
        for c in &r.cases {
            let status = if c.passed {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(text(c.failures.first().map_or("failed", String::as_str)))
                    .set_description(text(&c.failures.join("\n")));
                status
            };
            let mut case = TestCase::new(text(&c.name), status);
            case.set_classname(file.as_str()).set_time(c.elapsed);
            suite.add_test_case(case);
        }
        let elapsed = r.cases.iter().map(|c| c.elapsed).sum();
        suite.set_time(elapsed);
        report.add_test_suite(suite);
    }
    let total = reports
        .iter()
        .flat_map(|r| r.cases.iter().map(|c| c.elapsed))
        .sum();
    report.set_time(total);
    report.to_string().unwrap_or_else(|e| {
        // Writing to a string fails only on a bug; say so in valid XML.
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"changegate\" tests=\"1\" failures=\"1\"><testsuite name=\"changegate\" tests=\"1\" failures=\"1\"><testcase name=\"(report)\"><failure message=\"cannot write the report\">{}</failure></testcase></testsuite></testsuites>\n",
            e.to_string().replace('&', "&amp;").replace('<', "&lt;")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn characters_xml_forbids_are_shown_not_dropped() {
        assert_eq!(text("a\u{7}b\u{1b}[31m"), "a\\u{7}b\\u{1b}[31m");
        assert_eq!(text("tab\tok\u{fffe}"), "tab\tok\\u{fffe}");
    }
}
