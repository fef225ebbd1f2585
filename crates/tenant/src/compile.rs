//! The one place the tenant crate calls the policy compiler, mapping each compile problem
//! (a regex too large, a script syntax error, a failing example) back to its YAML key.

use passgate_policy::{CompileLocation, PolicySpec};

pub use passgate_policy::CompiledPolicy;

use crate::{positions::index, validate::Collector};

/// Compiles `spec`, recording every compile problem in `c`. `None` when any was found.
pub(crate) fn compile(spec: &PolicySpec, c: &mut Collector<'_>) -> Option<CompiledPolicy> {
    match CompiledPolicy::compile(spec) {
        Ok(policy) => Some(policy),
        Err(errors) => {
            for e in errors {
                c.error(&path_of(&e.location), e.message);
            }
            None
        }
    }
}

/// The YAML key path a compile problem is about.
fn path_of(location: &CompileLocation) -> String {
    match location {
        CompileLocation::RegexRule(i) => {
            format!("{}.pattern", index("password_policy.regex_rules", *i))
        }
        CompileLocation::Script => "password_policy.script.source".to_owned(),
        CompileLocation::ScriptExample(i) => index("password_policy.script.examples", *i),
        CompileLocation::ExtraBlocklist(i) => index("password_policy.blocklist", *i),
        CompileLocation::Policy => "password_policy".to_owned(),
    }
}
