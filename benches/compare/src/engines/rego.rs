//! regorus 0.14: the interpreter (`eval_rule`) and the RVM (`execute`), querying
//! `data.gate.matches` (a set of rule ids) with the request as `input`.

use std::collections::BTreeMap;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use regorus::{Rc, Value};

use super::{rule_index, Engine, Final, HReq, HRule, Loaded, Verdict};

const ENTRYPOINT: &str = "data.gate.matches";

/// Interpreter: `Engine::new` + `add_policy` + `compile_with_entrypoint`.
fn compile_interpreter(w: &Loaded) -> Result<(regorus::Engine, regorus::CompiledPolicy), String> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy(format!("rego_{}.rego", w.n), w.rego.clone())
        .map_err(|e| e.to_string())?;
    let ep: Rc<str> = ENTRYPOINT.into();
    let compiled = engine
        .compile_with_entrypoint(&ep)
        .map_err(|e| e.to_string())?;
    Ok((engine, compiled))
}

/// The request as a Rego input object, exactly the JSON line (arrays for lists).
fn input(r: &HReq) -> Value {
    let s = |x: &String| Value::from(x.as_str());
    let mut m = BTreeMap::new();
    m.insert(Value::from("id"), Value::from(r.id));
    m.insert(Value::from("kind"), s(&r.kind));
    m.insert(Value::from("risk"), Value::from(r.risk));
    m.insert(
        Value::from("labels"),
        Value::from(r.labels.iter().map(s).collect::<Vec<_>>()),
    );
    m.insert(
        Value::from("targets"),
        Value::from(r.targets.iter().map(s).collect::<Vec<_>>()),
    );
    m.insert(Value::from("author"), s(&r.author));
    Value::from(m)
}

/// Matched ids out of the result set (undefined or empty = none).
fn extract(rules: &[HRule], v: Value) -> Verdict {
    let matched: Vec<u32> = match &v {
        Value::Set(set) => set
            .iter()
            .map(|x| rule_index(x.as_string().expect("rule id")))
            .collect(),
        Value::Undefined => Vec::new(),
        other => panic!("unexpected result {other}"),
    };
    let fin = Final::of(rules, &matched);
    Verdict { matched, fin }
}

pub struct Regorus {
    engine: regorus::Engine,
    rules: Vec<HRule>,
}

impl Engine for Regorus {
    const NAME: &'static str = "regorus";
    type Req = Value;
    type Out = Value;

    fn compile(w: &Loaded) -> Result<Self, String> {
        let (engine, _compiled) = compile_interpreter(w)?;
        Ok(Regorus {
            engine,
            rules: w.rules.clone(),
        })
    }

    fn prep(&self, r: &HReq) -> Value {
        input(r)
    }

    fn eval(&mut self, _r: &HReq, q: Value) -> Value {
        self.engine.set_input(q);
        self.engine
            .eval_rule(ENTRYPOINT.to_string())
            .expect("eval_rule")
    }

    fn post(&self, v: Value) -> Verdict {
        extract(&self.rules, v)
    }
}

pub struct RegorusRvm {
    vm: RegoVM,
    rules: Vec<HRule>,
}

impl Engine for RegorusRvm {
    const NAME: &'static str = "regorus-rvm";
    type Req = Value;
    type Out = Value;

    fn compile(w: &Loaded) -> Result<Self, String> {
        let (_engine, compiled) = compile_interpreter(w)?;
        let program =
            Compiler::compile_from_policy(&compiled, &[ENTRYPOINT]).map_err(|e| e.to_string())?;
        let mut vm = RegoVM::new();
        vm.load_program(program);
        vm.set_data(Value::new_object())
            .map_err(|e| e.to_string())?;
        Ok(RegorusRvm {
            vm,
            rules: w.rules.clone(),
        })
    }

    fn prep(&self, r: &HReq) -> Value {
        input(r)
    }

    fn eval(&mut self, _r: &HReq, q: Value) -> Value {
        self.vm.set_input(q);
        self.vm.execute().expect("execute")
    }

    fn post(&self, v: Value) -> Verdict {
        extract(&self.rules, v)
    }
}
