//! Cedar 4.14: one `permit` per rule; the matched set is `diagnostics().reason()`
//! mapped through the `@id` annotations.

use std::collections::HashMap;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet,
    Request, Response, RestrictedExpression,
};

use super::{rule_index, Engine, Final, HReq, HRule, Loaded, Verdict};

pub struct Cedar {
    policies: PolicySet,
    ids: HashMap<PolicyId, u32>,
    rules: Vec<HRule>,
    authorizer: Authorizer,
    entities: Entities,
    user: EntityTypeName,
    action: EntityUid,
    resource: EntityUid,
}

impl Engine for Cedar {
    const NAME: &'static str = "cedar";
    type Req = Request;
    type Out = Response;

    fn compile(w: &Loaded) -> Result<Self, String> {
        let policies = PolicySet::from_str(&w.cedar).map_err(|e| e.to_string())?;
        let ids = policies
            .policies()
            .map(|p| {
                let id = p
                    .annotation("id")
                    .ok_or_else(|| format!("policy {} has no @id", p.id()))?;
                Ok((p.id().clone(), rule_index(id)))
            })
            .collect::<Result<HashMap<_, _>, String>>()?;
        let uid = |t: &str, id: &str| {
            EntityUid::from_type_name_and_id(
                EntityTypeName::from_str(t).unwrap(),
                EntityId::new(id),
            )
        };
        Ok(Cedar {
            policies,
            ids,
            rules: w.rules.clone(),
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            user: EntityTypeName::from_str("User").unwrap(),
            action: uid("Action", "deploy"),
            resource: uid("Gate", "prod"),
        })
    }

    fn prep(&self, r: &HReq) -> Request {
        let s = |x: &String| RestrictedExpression::new_string(x.clone());
        let context = Context::from_pairs([
            ("kind".to_string(), s(&r.kind)),
            ("risk".to_string(), RestrictedExpression::new_long(r.risk)),
            (
                "labels".to_string(),
                RestrictedExpression::new_set(r.labels.iter().map(s)),
            ),
            (
                "targets".to_string(),
                RestrictedExpression::new_set(r.targets.iter().map(s)),
            ),
            ("author".to_string(), s(&r.author)),
        ])
        .expect("context");
        let principal =
            EntityUid::from_type_name_and_id(self.user.clone(), EntityId::new(&r.author));
        Request::new(
            principal,
            self.action.clone(),
            self.resource.clone(),
            context,
            None,
        )
        .expect("request")
    }

    fn eval(&mut self, _r: &HReq, q: Request) -> Response {
        self.authorizer
            .is_authorized(&q, &self.policies, &self.entities)
    }

    fn post(&self, resp: Response) -> Verdict {
        let matched: Vec<u32> = resp.diagnostics().reason().map(|p| self.ids[p]).collect();
        let fin = Final::of(&self.rules, &matched);
        Verdict { matched, fin }
    }
}
