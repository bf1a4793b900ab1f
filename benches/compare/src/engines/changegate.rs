//! changegate: the `.gate` encoding of W(N) (`workload::gate`), one rule per workload
//! rule with its outcome and `default approve 1 from fallback`.

use changegate::{Change, Decision, Inventory, Policy};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use super::{rule_index, Engine, Final, HReq, Loaded, Verdict, DEFAULT_GROUP_BIT};

pub struct Changegate {
    policy: Policy,
    inventory: Inventory,
    at: DateTime<Utc>,
}

impl Engine for Changegate {
    const NAME: &'static str = "changegate";
    type Req = Change;
    type Out = changegate::Verdict;

    fn compile(w: &Loaded) -> Result<Self, String> {
        let policy =
            Policy::parse(&w.gate, &format!("w{}.gate", w.n)).map_err(|d| format!("{d:?}"))?;
        Ok(Changegate {
            policy,
            inventory: Inventory::empty(),
            // A fixed instant: no window or freeze in the policy, so any would do.
            at: Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap(),
        })
    }

    fn prep(&self, r: &HReq) -> Change {
        Change::from_json(json!({
            "id": r.id,
            "kind": r.kind,
            "risk": r.risk,
            "labels": r.labels,
            "targets": r.targets,
            "author": r.author,
        }))
        .expect("change")
    }

    fn eval(&mut self, _r: &HReq, q: Change) -> changegate::Verdict {
        self.policy.evaluate(&q, &self.inventory, self.at)
    }

    fn post(&self, v: changegate::Verdict) -> Verdict {
        let matched: Vec<u32> = v.matched.iter().map(|m| rule_index(&m.rule)).collect();
        let fin = if !v.errors.is_empty() {
            Final::Other(format!("errors: {:?}", v.errors))
        } else {
            match v.decision {
                Decision::Deny => Final::Deny,
                Decision::Deploy => Final::Auto,
                Decision::Approve => {
                    let mut mask = 0u8;
                    for a in &v.approvals {
                        mask |= match a.group.as_str() {
                            "fallback" => DEFAULT_GROUP_BIT,
                            g => 1 << g[1..].parse::<u8>().expect("group gN"),
                        };
                    }
                    Final::Approval(mask)
                }
                Decision::Wait => Final::Other("wait".into()),
            }
        };
        Verdict { matched, fin }
    }
}
