//! The baseline: a plain Rust loop over the rules of `rules_N.jsonl`.

use super::{Engine, Final, HReq, HRule, Loaded, Verdict};

pub struct Native {
    rules: Vec<HRule>,
}

impl Engine for Native {
    const NAME: &'static str = "native";
    type Req = ();
    type Out = Vec<u32>;

    fn compile(w: &Loaded) -> Result<Self, String> {
        Ok(Native {
            rules: w.rules.clone(),
        })
    }

    fn prep(&self, _r: &HReq) {}

    fn eval(&mut self, r: &HReq, _q: ()) -> Vec<u32> {
        let mut m = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if r.kind == rule.kind && r.risk >= rule.min_risk && r.labels.contains(&rule.label) {
                m.push(i as u32);
            }
        }
        m
    }

    fn post(&self, matched: Vec<u32>) -> Verdict {
        let fin = Final::of(&self.rules, &matched);
        Verdict { matched, fin }
    }
}
