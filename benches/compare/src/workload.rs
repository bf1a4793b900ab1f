//! Workload W(N), "deployment gate" (`WORKLOAD.md`, normative).
//!
//! A self-contained file with no dependency beyond `std`: the benchmark harness uses
//! it as a module, and changegate's own test suite includes it with `#[path]` to check
//! the checksums of the generated files and to run changegate on W(N).
//!
//! Everything here is deterministic: the same N gives byte-identical text.

#![allow(dead_code)]

use std::fmt::Write as _;

/// The sizes of the policy that the benchmark measures.
pub const SIZES: [usize; 4] = [10, 100, 1000, 10000];
/// The number of requests, whatever N.
pub const REQUESTS: usize = 1000;
/// Seed of the rules stream.
pub const RULES_SEED: u64 = 12345;
/// Seed of the requests stream.
pub const REQUESTS_SEED: u64 = 67890;
/// The number of approval groups `g0..g6`.
pub const GROUPS: usize = 7;

/// Knuth's MMIX linear congruential generator, top 31 bits out (§1).
#[derive(Debug, Clone)]
pub struct Lcg {
    state: u64,
}

impl Lcg {
    pub const A: u64 = 6364136223846793005;
    pub const C: u64 = 1442695040888963407;

    pub fn new(seed: u64) -> Self {
        Lcg { state: seed }
    }

    /// The next value, `0 <= x < 2^31`.
    pub fn next(&mut self) -> u64 {
        self.state = Self::A.wrapping_mul(self.state).wrapping_add(Self::C);
        self.state >> 33
    }

    /// `next() mod n` (the modulo bias is part of the definition).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a matching rule asks for (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Auto,
    /// Approval from group `g{0}` (0..7).
    Approval(u8),
    Deny,
}

/// Rule `r{index}`: `kind == "k{kind}" && risk >= min_risk && "l{label}" in labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub index: usize,
    pub kind: u32,
    pub min_risk: u32,
    pub label: u32,
    pub outcome: Outcome,
}

impl Rule {
    pub fn id(&self) -> String {
        format!("r{}", self.index)
    }

    /// Whether the rule matches a request (§2).
    pub fn matches(&self, req: &Request) -> bool {
        req.kind == self.kind && req.risk >= self.min_risk && req.labels.contains(&self.label)
    }
}

/// The first `n` rules of the rules stream (§2).
pub fn rules(n: usize) -> Vec<Rule> {
    let mut lcg = Lcg::new(RULES_SEED);
    (0..n)
        .map(|index| {
            let kind = lcg.below(20) as u32;
            let min_risk = lcg.below(11) as u32;
            let label = lcg.below(100) as u32;
            let o = lcg.below(10);
            let outcome = match o {
                0..=3 => Outcome::Auto,
                4..=8 => Outcome::Approval((index % GROUPS) as u8),
                _ => Outcome::Deny,
            };
            Rule {
                index,
                kind,
                min_risk,
                label,
                outcome,
            }
        })
        .collect()
}

/// A request, numbers only: kind `k{kind}`, labels `l{x}`, targets `d{x}`, author `u{author}` (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: u32,
    pub kind: u32,
    pub risk: u32,
    /// Five distinct labels, in draw order.
    pub labels: [u32; 5],
    /// Three targets (duplicates allowed), in draw order.
    pub targets: [u32; 3],
    pub author: u32,
}

/// The 1000 requests of the requests stream (§3).
pub fn requests() -> Vec<Request> {
    let mut lcg = Lcg::new(REQUESTS_SEED);
    (0..REQUESTS as u32)
        .map(|id| {
            let kind = lcg.below(20) as u32;
            let risk = lcg.below(11) as u32;
            let mut labels = [0u32; 5];
            let mut have = 0;
            while have < 5 {
                let x = lcg.below(100) as u32;
                if !labels[..have].contains(&x) {
                    labels[have] = x;
                    have += 1;
                }
            }
            let mut targets = [0u32; 3];
            for t in &mut targets {
                *t = lcg.below(1000) as u32;
            }
            let author = lcg.below(50) as u32;
            Request {
                id,
                kind,
                risk,
                labels,
                targets,
                author,
            }
        })
        .collect()
}

/// The indices of the rules that match, ascending (§4).
pub fn matched(rules: &[Rule], req: &Request) -> Vec<usize> {
    rules
        .iter()
        .filter(|r| r.matches(req))
        .map(|r| r.index)
        .collect()
}

/// The final verdict of a set of matched rules, in canonical string form (§4):
/// `deny`, `auto`, `approval:g1,g3` or `approval:default`.
pub fn final_verdict(rules: &[Rule], matched: &[usize]) -> String {
    let mut groups = [false; GROUPS];
    let (mut any_group, mut auto) = (false, false);
    for &i in matched {
        match rules[i].outcome {
            Outcome::Deny => return "deny".to_string(),
            Outcome::Approval(g) => {
                groups[g as usize] = true;
                any_group = true;
            }
            Outcome::Auto => auto = true,
        }
    }
    if any_group {
        let names: Vec<String> = (0..GROUPS)
            .filter(|&g| groups[g])
            .map(|g| format!("g{g}"))
            .collect();
        format!("approval:{}", names.join(","))
    } else if auto {
        "auto".to_string()
    } else {
        "approval:default".to_string()
    }
}

fn json_str_list(out: &mut String, prefix: char, xs: &[u32]) {
    out.push('[');
    for (k, x) in xs.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{prefix}{x}\"");
    }
    out.push(']');
}

/// One request as compact JSON, as in `requests.jsonl` (no newline).
pub fn request_json(req: &Request) -> String {
    let mut s = String::with_capacity(128);
    let _ = write!(
        s,
        "{{\"id\":{},\"kind\":\"k{}\",\"risk\":{},\"labels\":",
        req.id, req.kind, req.risk
    );
    json_str_list(&mut s, 'l', &req.labels);
    s.push_str(",\"targets\":");
    json_str_list(&mut s, 'd', &req.targets);
    let _ = write!(s, ",\"author\":\"u{}\"}}", req.author);
    s
}

/// `requests.jsonl`.
pub fn requests_jsonl(reqs: &[Request]) -> String {
    let mut s = String::new();
    for r in reqs {
        s.push_str(&request_json(r));
        s.push('\n');
    }
    s
}

/// `policies/rules_N.jsonl`.
pub fn rules_jsonl(rules: &[Rule]) -> String {
    let mut s = String::new();
    for r in rules {
        let _ = write!(
            s,
            "{{\"id\":\"r{}\",\"kind\":\"k{}\",\"min_risk\":{},\"label\":\"l{}\",\"outcome\":",
            r.index, r.kind, r.min_risk, r.label
        );
        match r.outcome {
            Outcome::Auto => s.push_str("\"auto\""),
            Outcome::Approval(g) => {
                let _ = write!(s, "\"approval\",\"group\":\"g{g}\"");
            }
            Outcome::Deny => s.push_str("\"deny\""),
        }
        s.push_str("}\n");
    }
    s
}

/// `policies/cedar_N.cedar`: one `permit` per rule, named by `@id` (§5).
pub fn cedar(rules: &[Rule]) -> String {
    let mut s = String::new();
    for r in rules {
        let _ = writeln!(
            s,
            "@id(\"r{}\") permit(principal, action, resource) when {{ context.kind == \"k{}\" && context.risk >= {} && context.labels.contains(\"l{}\") }};",
            r.index, r.kind, r.min_risk, r.label
        );
    }
    s
}

/// `policies/rego_N.rego`: package, `import rego.v1`, one partial-set rule per rule (§5).
pub fn rego(rules: &[Rule]) -> String {
    let mut s = String::from("package gate\n\nimport rego.v1\n\n");
    for r in rules {
        let _ = writeln!(
            s,
            "matches contains \"r{}\" if {{ input.kind == \"k{}\"; input.risk >= {}; \"l{}\" in input.labels }}",
            r.index, r.kind, r.min_risk, r.label
        );
    }
    s
}

/// changegate's `.gate` policy for W(N): groups `g0..g6` (one approver each) and
/// `fallback`, one rule per workload rule with its outcome, and the default
/// `approve 1 from fallback` (the workload's `approval:default`).
pub fn gate(rules: &[Rule]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "policy \"w{}\"\n", rules.len());
    for g in 0..GROUPS {
        let _ = writeln!(s, "group g{g} = [\"approver{g}\"]");
    }
    s.push_str("group fallback = [\"approver7\"]\n\n");
    for r in rules {
        let _ = writeln!(
            s,
            "rule \"r{}\" {{\n  when change.kind == \"k{}\" and change.risk >= {} and \"l{}\" in change.labels",
            r.index, r.kind, r.min_risk, r.label
        );
        match r.outcome {
            Outcome::Auto => s.push_str("  then deploy\n}\n"),
            Outcome::Approval(g) => {
                let _ = writeln!(s, "  then approve 1 from g{g}\n}}");
            }
            Outcome::Deny => {
                let _ = writeln!(s, "  then deny \"r{}\"\n}}", r.index);
            }
        }
    }
    s.push_str("\ndefault approve 1 from fallback\n");
    s
}

/// `expected/expected_N.jsonl`: matched ids (by index) and the final verdict.
pub fn expected_jsonl(rules: &[Rule], reqs: &[Request]) -> String {
    let mut s = String::new();
    for req in reqs {
        let m = matched(rules, req);
        let _ = write!(s, "{{\"id\":{},\"matched\":[", req.id);
        for (k, i) in m.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, "\"r{i}\"");
        }
        let _ = writeln!(s, "],\"final\":\"{}\"}}", final_verdict(rules, &m));
    }
    s
}

/// W(N) in memory: the rules, the requests and every text of §6 (plus the `.gate` policy).
pub struct Workload {
    pub n: usize,
    pub rules: Vec<Rule>,
    pub requests: Vec<Request>,
}

impl Workload {
    pub fn new(n: usize) -> Self {
        Workload {
            n,
            rules: rules(n),
            requests: requests(),
        }
    }

    /// The files of §6 for this N plus `policies/gate_N.gate`, as (relative path, text).
    /// `requests.jsonl` is the same for every N.
    pub fn files(&self) -> Vec<(String, String)> {
        let n = self.n;
        vec![
            ("requests.jsonl".to_string(), requests_jsonl(&self.requests)),
            (
                format!("policies/rules_{n}.jsonl"),
                rules_jsonl(&self.rules),
            ),
            (format!("policies/cedar_{n}.cedar"), cedar(&self.rules)),
            (format!("policies/rego_{n}.rego"), rego(&self.rules)),
            (format!("policies/gate_{n}.gate"), gate(&self.rules)),
            (
                format!("expected/expected_{n}.jsonl"),
                expected_jsonl(&self.rules, &self.requests),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_vectors() {
        let mut r = Lcg::new(RULES_SEED);
        let got: Vec<u64> = (0..8).map(|_| r.next()).collect();
        assert_eq!(
            got,
            [
                235318264, 569910583, 1901863042, 1794732421, 699287380, 1203604950, 1704819483,
                840726694
            ]
        );
        let mut q = Lcg::new(REQUESTS_SEED);
        let got: Vec<u64> = (0..8).map(|_| q.next()).collect();
        assert_eq!(
            got,
            [
                350554191, 953825449, 696228098, 920688378, 2095922801, 1098097611, 2038160055,
                495015857
            ]
        );
    }

    #[test]
    fn examples() {
        let rs = rules(2);
        assert_eq!(
            (rs[0].kind, rs[0].min_risk, rs[0].label, rs[0].outcome),
            (4, 0, 42, Outcome::Auto)
        );
        assert_eq!(
            (rs[1].kind, rs[1].min_risk, rs[1].label, rs[1].outcome),
            (0, 9, 83, Outcome::Approval(1))
        );
        assert_eq!(
            request_json(&requests()[0]),
            r#"{"id":0,"kind":"k11","risk":5,"labels":["l98","l78","l1","l11","l55"],"targets":["d857","d637","d687"],"author":"u12"}"#
        );
    }
}
