//! Strict parsing of `application/x-www-form-urlencoded` bodies: every field at most once.
//!
//! GitLab's CVE-2023-7028 sent reset links to every address of `email[]=a&email[]=b`;
//! here a repeated name makes the whole form invalid (security.md item 15), and names with
//! brackets are just unknown fields, so `email[]` never becomes `email`.

use std::collections::BTreeMap;

use secrecy::SecretString;

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// A field appeared more than once.
    Duplicate(String),
    /// The body is not a form (wrong content type).
    NotAForm,
}

/// A parsed form. Values of password fields should be taken with [`Form::secret`].
pub struct Form {
    fields: BTreeMap<String, String>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Form {
    /// Parses `body`; `content_type` must be `application/x-www-form-urlencoded`.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, FormError> {
        let is_form = content_type
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| {
                c.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(FormError::NotAForm);
        }
        Self::collect(body)
    }

    /// Parses a query string with the same rule (each parameter at most once).
    pub fn from_query(query: Option<&str>) -> Result<Self, FormError> {
        Self::collect(query.unwrap_or_default().as_bytes())
    }

    fn collect(body: &[u8]) -> Result<Self, FormError> {
        let mut fields = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            let name = name.into_owned();
            if fields.contains_key(&name) {
                return Err(FormError::Duplicate(name));
            }
            fields.insert(name, value.into_owned());
        }
        Ok(Self { fields })
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The value of `name` as a secret (passwords), if present.
    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.fields.get(name).map(|v| SecretString::from(v.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn repeated_fields_are_refused() {
        let err = Form::parse(FORM, b"email=a%40x.io&email=b%40y.io").unwrap_err();
        assert_eq!(err, FormError::Duplicate("email".into()));
    }

    #[test]
    fn bracketed_names_do_not_become_the_plain_field() {
        let form = Form::parse(FORM, b"email[]=a%40x.io&email[]=b").unwrap_err();
        assert_eq!(form, FormError::Duplicate("email[]".into()));
        let form = Form::parse(FORM, b"email[]=a%40x.io").unwrap();
        assert_eq!(form.get("email"), None);
    }

    #[test]
    fn values_are_decoded_byte_for_byte() {
        let form = Form::parse(FORM, b"password=+%C3%A9+x%20&email=a%2Bb%40x.io").unwrap();
        assert_eq!(form.get("password"), Some(" é x "));
        assert_eq!(form.get("email"), Some("a+b@x.io"));
    }

    #[test]
    fn other_content_types_are_not_forms() {
        assert_eq!(
            Form::parse(Some("application/json"), b"{}").unwrap_err(),
            FormError::NotAForm
        );
    }
}
