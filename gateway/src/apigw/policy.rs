//! The authorizer's answer, as API Gateway reads it: an IAM policy evaluated
//! against the method ARN, and the context passed on.

use serde_json::{Map, Value};

/// What the authorizer decided, as API Gateway reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The policy allows the method ARN.
    Allow {
        /// `principalId`.
        principal: String,
        /// The context, as strings.
        context: Map<String, Value>,
    },
    /// The policy denies it (explicitly or by not allowing it).
    Deny {
        /// `context.reason`, when the authorizer gave one.
        reason: Option<String>,
    },
    /// The response is not a valid authorizer response: API Gateway answers
    /// 500 (`AuthorizerConfigurationException`).
    Invalid(String),
}

/// `*` matches any run of characters, `?` one character (IAM resource
/// matching, which API Gateway applies to the method ARN).
#[must_use]
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Evaluates an authorizer response against `method_arn`: an explicit Deny
/// wins, then an Allow, and anything else is a Deny.
#[must_use]
pub fn evaluate(response: &Value, method_arn: &str) -> Verdict {
    let Some(principal) = response.get("principalId").and_then(Value::as_str) else {
        return Verdict::Invalid("no principalId".into());
    };
    let Some(statements) = response
        .pointer("/policyDocument/Statement")
        .and_then(Value::as_array)
    else {
        return Verdict::Invalid("no policyDocument.Statement".into());
    };
    let context = match response.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            // API Gateway accepts only strings, numbers and booleans here.
            if m.values().any(|v| v.is_object() || v.is_array()) {
                return Verdict::Invalid(
                    "context values must be strings, numbers or booleans".into(),
                );
            }
            m.clone()
        }
        Some(_) => return Verdict::Invalid("context is not an object".into()),
    };
    let reason = context
        .get(mtls_policy::context::keys::REASON)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut allowed = false;
    for st in statements {
        let actions = strings(st.get("Action"));
        let invokes = actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"));
        let matches = strings(st.get("Resource"))
            .iter()
            .any(|r| glob(r, method_arn));
        if !(invokes && matches) {
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Verdict::Deny { reason },
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Verdict::Allow {
            principal: principal.to_owned(),
            context,
        }
    } else {
        Verdict::Deny { reason }
    }
}
