//! The engines under test, behind one small trait, and the loaded workload.

use crate::workload::{self, Outcome};

pub mod cedar;
pub mod changegate;
pub mod native;
pub mod rego;

/// A request as parsed from `requests.jsonl`; every engine builds its own request
/// object from this (the *prep* phase).
#[derive(Debug, Clone)]
pub struct HReq {
    pub id: i64,
    pub kind: String,
    pub risk: i64,
    pub labels: Vec<String>,
    pub targets: Vec<String>,
    pub author: String,
}

/// A rule as parsed from `policies/rules_N.jsonl`: the rule table from which Cedar's
/// and regorus' final verdicts are computed, and the native baseline's policy.
#[derive(Debug, Clone)]
pub struct HRule {
    pub kind: String,
    pub min_risk: i64,
    pub label: String,
    pub outcome: Outcome,
}

/// W(N) as a harness that had read the files of §6 holds it.
pub struct Loaded {
    pub n: usize,
    pub cedar: String,
    pub rego: String,
    pub gate: String,
    pub rules: Vec<HRule>,
    pub requests: Vec<HReq>,
    /// Per request: matched rule indices (ascending) and the canonical final verdict.
    pub expected: Vec<(Vec<u32>, String)>,
}

/// `"r123"` → 123.
pub fn rule_index(id: &str) -> u32 {
    id.strip_prefix('r')
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad rule id {id:?}"))
}

fn str_list(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

impl Loaded {
    pub fn new(w: &workload::Workload) -> Self {
        let n = w.n;
        let files: std::collections::HashMap<String, String> = w.files().into_iter().collect();
        let get = |k: String| files.get(&k).unwrap_or_else(|| panic!("no {k}")).clone();
        let rules_jsonl = get(format!("policies/rules_{n}.jsonl"));
        let rules = rules_jsonl
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let outcome = match v["outcome"].as_str().unwrap() {
                    "auto" => Outcome::Auto,
                    "deny" => Outcome::Deny,
                    "approval" => {
                        Outcome::Approval(v["group"].as_str().unwrap()[1..].parse().unwrap())
                    }
                    o => panic!("bad outcome {o}"),
                };
                HRule {
                    kind: v["kind"].as_str().unwrap().to_string(),
                    min_risk: v["min_risk"].as_i64().unwrap(),
                    label: v["label"].as_str().unwrap().to_string(),
                    outcome,
                }
            })
            .collect();
        let requests = get("requests.jsonl".into())
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                HReq {
                    id: v["id"].as_i64().unwrap(),
                    kind: v["kind"].as_str().unwrap().to_string(),
                    risk: v["risk"].as_i64().unwrap(),
                    labels: str_list(&v["labels"]),
                    targets: str_list(&v["targets"]),
                    author: v["author"].as_str().unwrap().to_string(),
                }
            })
            .collect();
        let expected = get(format!("expected/expected_{n}.jsonl"))
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let m = str_list(&v["matched"])
                    .iter()
                    .map(|s| rule_index(s))
                    .collect();
                (m, v["final"].as_str().unwrap().to_string())
            })
            .collect();
        Loaded {
            n,
            cedar: get(format!("policies/cedar_{n}.cedar")),
            rego: get(format!("policies/rego_{n}.rego")),
            gate: get(format!("policies/gate_{n}.gate")),
            rules,
            requests,
            expected,
        }
    }
}

/// The final verdict (§4), compactly: approval groups as a bit mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    Deny,
    Auto,
    /// Bits 0..6: groups g0..g6; bit 7: the default group.
    Approval(u8),
    /// Something the workload has no name for (an engine bug).
    Other(String),
}

pub const DEFAULT_GROUP_BIT: u8 = 1 << 7;

impl Final {
    /// The canonical string of `expected/*.jsonl`.
    pub fn canonical(&self) -> String {
        match self {
            Final::Deny => "deny".into(),
            Final::Auto => "auto".into(),
            Final::Approval(mask) => {
                let mut names: Vec<String> = (0..7)
                    .filter(|g| mask & (1 << g) != 0)
                    .map(|g| format!("g{g}"))
                    .collect();
                if mask & DEFAULT_GROUP_BIT != 0 {
                    names.push("default".into());
                }
                format!("approval:{}", names.join(","))
            }
            Final::Other(s) => format!("other:{s}"),
        }
    }

    /// The final verdict of matched rules, from the rule table (§4).
    pub fn of(rules: &[HRule], matched: &[u32]) -> Final {
        let (mut groups, mut auto) = (0u8, false);
        for &i in matched {
            match rules[i as usize].outcome {
                Outcome::Deny => return Final::Deny,
                Outcome::Approval(g) => groups |= 1 << g,
                Outcome::Auto => auto = true,
            }
        }
        if groups != 0 {
            Final::Approval(groups)
        } else if auto {
            Final::Auto
        } else {
            Final::Approval(DEFAULT_GROUP_BIT)
        }
    }
}

/// What *post* extracts: matched rule indices (any order) and the final verdict.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub matched: Vec<u32>,
    pub fin: Final,
}

/// One engine, compiled and ready: the three timed phases of §7.
pub trait Engine: Sized {
    const NAME: &'static str;
    /// The engine's request object.
    type Req;
    /// The engine's raw answer.
    type Out;
    /// From the in-memory policy text to a ready-to-evaluate engine.
    fn compile(w: &Loaded) -> Result<Self, String>;
    /// Build the engine's request from the parsed request.
    fn prep(&self, r: &HReq) -> Self::Req;
    /// Evaluate (the parsed request is passed too, for the native baseline only).
    fn eval(&mut self, r: &HReq, q: Self::Req) -> Self::Out;
    /// Extract the matched ids and compute the final verdict.
    fn post(&self, o: Self::Out) -> Verdict;
}
