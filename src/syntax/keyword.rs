//! Every word the language reserves, in one place: the parser's recovery and
//! messages, the piece splitter and the tests read this list, and a test checks that
//! the grammar's `keyword` rule (`grammar/changegate.pest`) lists exactly these words.

/// Declares [`Keyword`] from one table: each variant with its spelling, in the
/// grammar's order.
macro_rules! keywords {
    ($($(#[doc = $doc:literal])* $variant:ident = $spelling:literal,)*) => {
        /// A reserved word of the policy language: none can be a name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Keyword {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Keyword {
            /// Every keyword, in the grammar's order.
            pub(crate) const ALL: [Keyword; 0 $(+ keywords!(@one $variant))*] =
                [$(Keyword::$variant,)*];

            /// How the keyword is written.
            pub(crate) fn spelling(self) -> &'static str {
                match self {
                    $(Keyword::$variant => $spelling,)*
                }
            }

            /// The keyword in backticks, as messages quote it: `` `when` ``.
            pub(crate) fn quoted(self) -> &'static str {
                match self {
                    $(Keyword::$variant => concat!("`", $spelling, "`"),)*
                }
            }
        }
    };
    (@one $variant:ident) => {
        1
    };
}

keywords! {
    /// `policy "name"`
    Policy = "policy",
    /// `import "path"`
    Import = "import",
    /// `group NAME = [...]`
    Group = "group",
    /// `window NAME = ...`
    Window = "window",
    /// `freeze NAME = ...`
    Freeze = "freeze",
    /// `rule "name" { ... }`
    Rule = "rule",
    /// `default OUTCOME`
    Default = "default",
    /// `rule "name" advisory { ... }`
    Advisory = "advisory",
    /// `when EXPR`
    When = "when",
    /// `then OUTCOME`
    Then = "then",
    /// the `deploy` outcome
    Deploy = "deploy",
    /// `approve N from GROUP`
    Approve = "approve",
    /// `approve N from GROUP`
    From = "from",
    /// `deny "reason"`
    Deny = "deny",
    /// `during WINDOW`
    During = "during",
    /// `break glass`
    Break = "break",
    /// `break glass`
    Glass = "glass",
    /// boolean `and`
    And = "and",
    /// boolean `or`
    Or = "or",
    /// boolean `not`
    Not = "not",
    /// membership `in`, and a window's zone `in "Area/City"`
    In = "in",
    /// regular-expression `match`
    Match = "match",
    /// the quantifier `any`
    Any = "any",
    /// the quantifier `all`
    All = "all",
    /// `count PATH`
    Count = "count",
    /// `sum PATH`
    Sum = "sum",
    /// `has(PATH)`
    Has = "has",
    /// the literal `true`
    True = "true",
    /// the literal `false`
    False = "false",
    /// every day of the week, in windows
    Daily = "daily",
    /// the local zone, in windows
    Local = "local",
    /// a duration, in windows (`22:00 for 6h`)
    For = "for",
    /// the root of change fields
    Change = "change",
    /// the root of blast-radius fields
    Blast = "blast",
    /// the root of target fields
    Targets = "targets",
    /// `schema { ... }`
    Schema = "schema",
}

impl Keyword {
    /// Whether the keyword starts a top-level item (and so can start a line only
    /// there: strings cannot span lines and no expression contains these words).
    pub(crate) fn starts_item(self) -> bool {
        matches!(
            self,
            Keyword::Policy
                | Keyword::Import
                | Keyword::Schema
                | Keyword::Group
                | Keyword::Window
                | Keyword::Freeze
                | Keyword::Rule
                | Keyword::Default
        )
    }

    /// The keyword spelled `word`, if it is one.
    pub(crate) fn from_word(word: &str) -> Option<Keyword> {
        Keyword::ALL.into_iter().find(|k| k.spelling() == word)
    }

    /// Whether `word` is a keyword that starts an item.
    pub(crate) fn starts_item_word(word: &str) -> bool {
        Keyword::from_word(word).is_some_and(Keyword::starts_item)
    }

    /// The item keywords.
    pub(crate) fn items() -> impl Iterator<Item = Keyword> {
        Keyword::ALL.into_iter().filter(|k| k.starts_item())
    }
}

#[cfg(test)]
mod tests {
    use super::Keyword;

    /// The quoted words of the grammar rule `name = @{ ... }`.
    fn grammar_rule_words(grammar: &str, name: &str) -> Vec<String> {
        let Some(start) = grammar
            .lines()
            .position(|line| line.split_whitespace().next() == Some(name) && line.contains("= @{"))
        else {
            return Vec::new();
        };
        let body: String = grammar.lines().skip(start).collect::<Vec<_>>().join("\n");
        let body = body.split_once("@{").map_or("", |(_, b)| b);
        let body = body.split_once('}').map_or(body, |(b, _)| b);
        body.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    /// The language reference's "Reserved words" block lists exactly the keywords,
    /// in the same order.
    #[test]
    fn the_reference_lists_exactly_these_words() {
        let doc = include_str!("../../docs/language.md");
        let block = doc
            .split_once("**Reserved words**")
            .and_then(|(_, rest)| rest.split_once("```text\n"))
            .and_then(|(_, rest)| rest.split_once("```"))
            .map_or("", |(block, _)| block);
        let listed: Vec<&str> = block.split_whitespace().collect();
        let words: Vec<&str> = Keyword::ALL.iter().map(|k| k.spelling()).collect();
        assert_eq!(listed, words);
    }

    #[test]
    fn the_grammar_reserves_exactly_these_words() {
        let grammar = include_str!("../../grammar/changegate.pest");
        let words: Vec<&str> = Keyword::ALL.iter().map(|k| k.spelling()).collect();
        assert_eq!(grammar_rule_words(grammar, "keyword"), words);
        // Each keyword has its token rule `kw_WORD` (the roots are matched by `root`).
        for k in Keyword::ALL {
            let w = k.spelling();
            let rule = format!("kw_{w}");
            let listed = grammar_rule_words(grammar, &rule);
            let root = grammar_rule_words(grammar, "root");
            let literal = grammar_rule_words(grammar, "boolean");
            assert!(
                listed == [w] || root.iter().any(|r| r == w) || literal.iter().any(|r| r == w),
                "no token rule for `{w}`"
            );
        }
    }

    #[test]
    fn item_keywords() {
        let items: Vec<&str> = Keyword::items().map(Keyword::spelling).collect();
        assert_eq!(
            items,
            ["policy", "import", "group", "window", "freeze", "rule", "default", "schema"]
        );
        assert!(Keyword::starts_item_word("rule"));
        assert!(!Keyword::starts_item_word("when"));
        assert!(!Keyword::starts_item_word("rules"));
    }
}
