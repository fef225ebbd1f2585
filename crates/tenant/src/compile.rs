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
                let path = path_of(&e.location);
                match (&e.location, script_line(&e.message)) {
                    (CompileLocation::Script, Some(line)) => {
                        c.error_in_text(&path, line, e.message)
                    }
                    _ => c.error(&path, e.message),
                }
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

/// The script line a JavaScript error names, from its trailing `(line N)`.
fn script_line(message: &str) -> Option<usize> {
    let rest = &message[message.rfind("(line ")? + "(line ".len()..];
    rest[..rest.find(')')?].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn script_lines_are_read_from_engine_messages() {
        assert_eq!(
            super::script_line("SyntaxError: unexpected token: '}' (line 3)"),
            Some(3)
        );
        assert_eq!(super::script_line("ReferenceError: x is not defined"), None);
        assert_eq!(super::script_line("odd (line x)"), None);
    }
}
