//! Stable ids for a policy's rules, so that an embedder can key its own data (counts,
//! owners, links) by rule without comparing names.

use crate::policy::Policy;

/// A rule of a compiled policy: its position in the root file's order of rules
/// (advisory rules included), the first rule being `0`.
///
/// The id is stable for a given policy text: it changes only when rules are added,
/// removed or moved above it. [`crate::verdict::Matched::id`] carries it for every
/// matched rule, and [`Policy::rule`] gives back the rule's name and location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(u32);

impl RuleId {
    /// The id of the rule at `index` in the root file's order, if it fits.
    pub fn new(index: usize) -> Option<RuleId> {
        u32::try_from(index).ok().map(RuleId)
    }

    /// The rule's position in the root file's order of rules.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of `rules[index]`, saturating (a policy holds far fewer rules).
    pub(crate) fn at(index: usize) -> RuleId {
        RuleId(u32::try_from(index).unwrap_or(u32::MAX))
    }
}

/// What a policy says about one rule ([`Policy::rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo<'p> {
    /// The rule's id.
    pub id: RuleId,
    /// The rule's name, as in `rule "…"`.
    pub name: &'p str,
    /// `file:line:col` of the rule, as verdicts give it.
    pub location: &'p str,
    /// Whether the rule is `advisory` (reported, never deciding).
    pub advisory: bool,
}

impl Policy {
    /// The rule with this id, or `None` when the policy has no such rule.
    pub fn rule(&self, id: RuleId) -> Option<RuleInfo<'_>> {
        self.rules.get(id.index()).map(|r| RuleInfo {
            id,
            name: &r.name,
            location: &r.location,
            advisory: r.advisory,
        })
    }

    /// Every rule, in the root file's order (so each one's id is its position).
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> {
        self.rules.iter().enumerate().map(|(i, r)| RuleInfo {
            id: RuleId::at(i),
            name: &r.name,
            location: &r.location,
            advisory: r.advisory,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Change, Inventory};

    const POLICY: &str = r#"
policy "ids"
group ops = ["dave"]
rule "note" advisory {
  when change.kind == "dns"
  then approve 1 from ops
}
rule "dns" {
  when change.kind == "dns"
  then approve 1 from ops
}
rule "risky" {
  when change.risk > 2
  then deny "too risky"
}
default deploy
"#;

    fn at() -> chrono::DateTime<chrono::Utc> {
        "2026-11-26T10:00:00Z".parse().unwrap()
    }

    /// Ids are positions in the root file's order, advisory rules included, and
    /// give back the rule a verdict names.
    #[test]
    fn matched_rules_carry_their_id() {
        let policy = Policy::parse(POLICY, "ids.gate").unwrap();
        let names: Vec<_> = policy.rules().map(|r| (r.id.index(), r.name)).collect();
        assert_eq!(names, [(0, "note"), (1, "dns"), (2, "risky")]);
        assert!(policy.rule(RuleId::new(0).unwrap()).unwrap().advisory);
        assert_eq!(policy.rule(RuleId::new(3).unwrap()), None);

        let change = Change::builder("C").kind("dns").field("risk", 3).build();
        let verdict = policy.evaluate(&change, None, at());
        let ids: Vec<_> = verdict.matched.iter().map(|m| m.id.index()).collect();
        assert_eq!(ids, [1, 2]);
        for m in &verdict.matched {
            let rule = policy.rule(m.id).unwrap();
            assert_eq!((rule.name, rule.location), (&*m.rule, &*m.location));
        }
        // The id is not part of the verdict's JSON.
        assert!(!verdict.to_json().contains("\"id\""));
        assert!(!verdict.is_error());
    }

    /// No inventory evaluates as the empty inventory does, to the byte.
    #[test]
    fn no_inventory_is_the_empty_inventory() {
        let policy = Policy::parse(POLICY, "ids.gate").unwrap();
        for change in [
            Change::builder("A").kind("dns").build(),
            Change::builder("B").field("risk", "high").build(),
            Change::builder("C").duration("soon").build(),
        ] {
            let none = policy.evaluate(&change, None, at());
            let empty = policy.evaluate(&change, &Inventory::empty(), at());
            assert_eq!(none, empty);
            assert_eq!(none.to_json(), empty.to_json());
        }
        let broken = Change::builder("C").duration("soon").build();
        assert!(policy.evaluate(&broken, None, at()).is_error());
    }
}
